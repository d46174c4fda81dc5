/**
 * The owner's routes: GET /me, GET /me/stream-key, POST /me/stream-key/rotate (Bearer JWT). Stream keys are
 * decrypted for the token's owner only and never logged.
 */
import { Controller, Get, HttpCode, Inject, NotFoundException, Post, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { isAdmin, loadConfig } from '@eventcast/platform';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { metadataOf, type AppRequest } from '../core/correlation.js';
import type { CommandApiConfig } from '../core/config.js';
import { CONFIG } from '../core/tokens.js';
import { AccountReader } from './account-reader.js';
import { RotateStreamKeyCommand } from './commands/rotate-stream-key.command.js';
import { CurrentAccount } from './current-account.decorator.js';
import { ErrorDto, MeDto, StreamKeyDto } from './dto/responses.dto.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { revealStreamKey } from './stream-keys.js';

/** Routes of the authenticated account. */
@ApiTags('me')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorDto })
@UseGuards(JwtAuthGuard)
@Controller('me')
export class MeController {
  constructor(
    private readonly commands: CommandBus,
    private readonly accounts: AccountReader,
    @Inject(CONFIG) private readonly config: CommandApiConfig,
  ) {}

  /**
   * `{ id, username, title, category, admin }` of the caller; `admin` = listed in `EVENTCAST_ADMINS` (the web shows the
   * admin pages' link; query-api enforces the rule). 404 when the account no longer exists.
   */
  @Get()
  @ApiOkResponse({ type: MeDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async me(@CurrentAccount() who: { id: string }): Promise<MeDto> {
    const { account } = await this.accounts.require(who.id);
    const admin = isAdmin(loadConfig(process.env), account.username);
    return { id: account.accountId, username: account.username, title: account.title, category: account.category, admin };
  }

  /** The caller's stream key (decrypted), the RTMP server URL and when the key was issued. */
  @Get('stream-key')
  @ApiOkResponse({ type: StreamKeyDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async streamKey(@CurrentAccount() who: { id: string }, @Req() req: AppRequest): Promise<StreamKeyDto> {
    const { account, keyIssuedAt } = await this.accounts.require(who.id);
    if (!account.streamKey || !keyIssuedAt) throw new NotFoundException('no stream key issued');
    const streamKey = revealStreamKey(account.streamKey, this.config.STREAM_KEY_SECRET);
    return { streamKey, rtmpUrl: this.rtmpUrl(req), rtmpsUrl: this.rtmpsUrl(req), issuedAt: keyIssuedAt.toISOString() };
  }

  /** Issues a new key; the old one is refused by ingest from now on. Same shape as GET /me/stream-key. */
  @Post('stream-key/rotate')
  @HttpCode(200)
  @ApiOkResponse({ type: StreamKeyDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async rotate(@CurrentAccount() who: { id: string }, @Req() req: AppRequest): Promise<StreamKeyDto> {
    const { streamKey, issuedAt } = await this.commands.execute(new RotateStreamKeyCommand(who.id, metadataOf(req, who.id)));
    return { streamKey, rtmpUrl: this.rtmpUrl(req), rtmpsUrl: this.rtmpsUrl(req), issuedAt: issuedAt.toISOString() };
  }

  /** RTMP_PUBLIC_URL, else `rtmp://<request hostname>:<INGEST_RTMP_PORT>/live`. */
  private rtmpUrl(req: AppRequest): string {
    if (this.config.RTMP_PUBLIC_URL) return this.config.RTMP_PUBLIC_URL;
    const host = req.hostname || 'localhost';
    return `rtmp://${host}:${this.config.INGEST_RTMP_PORT}/live`;
  }

  /**
   * RTMPS_PUBLIC_URL, else `rtmps://<request hostname>:<INGEST_RTMPS_PORT>/live` (issue 10 item 6); null when RTMPS is
   * off (`RTMPS_ENABLED` false: no RTMPS_PUBLIC_URL nor INGEST_TLS_CERT_FILE).
   */
  private rtmpsUrl(req: AppRequest): string | null {
    if (this.config.RTMPS_PUBLIC_URL) return this.config.RTMPS_PUBLIC_URL;
    if (!this.config.RTMPS_ENABLED) return null;
    const host = req.hostname || 'localhost';
    return `rtmps://${host}:${this.config.INGEST_RTMPS_PORT}/live`;
  }
}
