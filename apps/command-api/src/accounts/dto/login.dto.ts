import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** Body of POST /auth/login. */
export class LoginDto {
  @ApiProperty({ example: 'alice' })
  @IsString({ message: 'username must be a string' })
  @Length(1, 64, { message: 'username must be 1 to 64 characters' })
  username!: string;

  @ApiProperty({ example: 'correct horse battery', format: 'password' })
  @IsString({ message: 'password must be a string' })
  @Length(1, 128, { message: 'password must be 1 to 128 characters' })
  password!: string;
}
