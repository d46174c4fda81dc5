/** Response shapes of the account routes (for OpenAPI; the controllers return plain objects of these shapes). */
import { ApiProperty } from '@nestjs/swagger';
import type { AccountRef, AuthResult, Me, StreamKeyReply } from '@eventcast/contracts';

/** `{ id, username }` of an account. */
export class AccountRefDto implements AccountRef {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'alice' }) username!: string;
}

/** Reply of register and login. */
export class AuthResponseDto implements AuthResult {
  @ApiProperty({ description: 'HS256 access token (JWT, 15 min by default); send as `Authorization: Bearer <token>`' }) token!: string;
  @ApiProperty({ format: 'date-time', description: 'when `token` expires: refresh before (POST /auth/refresh with the cookie)' }) expiresAt!: string;
  @ApiProperty({ type: AccountRefDto }) account!: AccountRefDto;
}

/** Reply of GET /me. */
export class MeDto implements Me {
  @ApiProperty({ format: 'uuid', description: 'account id = channel id' }) id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ description: 'channel title ("" when unset)' }) title!: string;
  @ApiProperty({ description: 'channel category ("" when unset)' }) category!: string;
  @ApiProperty({ description: 'a platform admin (listed in EVENTCAST_ADMINS): may use the admin pages' }) admin!: boolean;
}

/** Reply of the owner's stream-key routes. */
export class StreamKeyDto implements StreamKeyReply {
  @ApiProperty({ description: 'secret: paste into OBS as the stream key', example: 'ec_<32 hex>_<43 base64url>' }) streamKey!: string;
  @ApiProperty({ example: 'rtmp://localhost:1935/live' }) rtmpUrl!: string;
  @ApiProperty({ example: 'rtmps://localhost:1936/live', nullable: true, type: String, description: 'RTMP over TLS (the ingest opens it when it has a certificate); null when RTMPS is off' })
  rtmpsUrl!: string | null;
  @ApiProperty({ format: 'date-time' }) issuedAt!: string;
}

/** The error body of every failure. */
export class ErrorDto {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'Bad Request' }) error!: string;
  @ApiProperty({ example: 'username must be 3 to 24 characters' }) message!: string;
}
