import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length, Matches } from 'class-validator';

/** Lower-cases strings (usernames are case-insensitive); leaves other values for the validators to refuse. */
export const toLowerCase = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.toLowerCase() : value);

/** Body of POST /auth/register. */
export class RegisterDto {
  @ApiProperty({ example: 'alice', minLength: 3, maxLength: 24, pattern: '^[a-z0-9_]+$', description: 'case-insensitive, stored lower-case' })
  @Transform(toLowerCase)
  @IsString({ message: 'username must be a string' })
  @Length(3, 24, { message: 'username must be 3 to 24 characters' })
  @Matches(/^[a-z0-9_]+$/, { message: 'username may contain only a-z, 0-9 and _' })
  username!: string;

  @ApiProperty({ example: 'correct horse battery', minLength: 8, maxLength: 128, format: 'password' })
  @IsString({ message: 'password must be a string' })
  @Length(8, 128, { message: 'password must be 8 to 128 characters' })
  password!: string;
}
