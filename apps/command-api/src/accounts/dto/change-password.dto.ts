import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** Body of POST /auth/password (issue 13 item 2). */
export class ChangePasswordDto {
  @ApiProperty({ format: 'password', description: 'the password in use now' })
  @IsString({ message: 'currentPassword must be a string' })
  @Length(1, 128, { message: 'currentPassword must be 1 to 128 characters' })
  currentPassword!: string;

  @ApiProperty({ example: 'correct horse battery staple', minLength: 8, maxLength: 128, format: 'password' })
  @IsString({ message: 'newPassword must be a string' })
  @Length(8, 128, { message: 'newPassword must be 8 to 128 characters' })
  newPassword!: string;
}
