/**
 * POST /auth/register and POST /auth/login (docs/contracts.md). Rate-limited per client IP by @nestjs/throttler
 * (AUTH_RATE_LIMIT_PER_MINUTE). Bodies are validated by the global ValidationPipe; passwords are never logged.
 */
import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiConflictResponse, ApiOkResponse, ApiCreatedResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { metadataOf, type AppRequest } from '../core/correlation.js';
import { AuthService } from './auth.service.js';
import { RegisterAccountCommand } from './commands/register-account.command.js';
import { LoginDto } from './dto/login.dto.js';
import { RegisterDto } from './dto/register.dto.js';
import { AuthResponseDto, ErrorDto } from './dto/responses.dto.js';

/** Registration and login. */
@ApiTags('auth')
@ApiTooManyRequestsResponse({ type: ErrorDto, description: 'too many attempts from this IP' })
@UseGuards(ThrottlerGuard)
@Controller('auth')
export class AuthController {
  constructor(
    private readonly commands: CommandBus,
    private readonly auth: AuthService,
  ) {}

  /** Registers an account with its channel and first stream key. 201 `{ token, account }`; 409 username taken. */
  @Post('register')
  @ApiCreatedResponse({ type: AuthResponseDto })
  @ApiBadRequestResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto, description: 'username is taken' })
  async register(@Body() dto: RegisterDto, @Req() req: AppRequest): Promise<AuthResponseDto> {
    const { accountId, username } = await this.commands.execute(new RegisterAccountCommand(dto.username, dto.password, metadataOf(req)));
    const account = { id: accountId, username };
    return { token: await this.auth.issueToken(account), account };
  }

  /** Logs in. 200 `{ token, account }`; 401 "invalid username or password". */
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: AuthResponseDto })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  async login(@Body() dto: LoginDto): Promise<AuthResponseDto> {
    const account = await this.auth.login(dto.username, dto.password);
    return { token: await this.auth.issueToken(account), account };
  }
}
