/**
 * OpenAPI schema of every error body: `{ statusCode, error, message }`.
 */
import { ApiProperty } from '@nestjs/swagger';

/** Error response body. */
export class ErrorDto {
  @ApiProperty({ example: 404 }) statusCode!: number;
  @ApiProperty({ example: 'Not Found' }) error!: string;
  @ApiProperty({ example: 'channel "alice" not found' }) message!: string;
}
