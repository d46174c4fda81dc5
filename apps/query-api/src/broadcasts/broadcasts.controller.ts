/**
 * `GET /broadcasts/:id`.
 */
import { BadRequestException, Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ErrorDto } from '../common/error.dto.js';
import { BroadcastViewDto } from './broadcast.dto.js';
import { BroadcastsService } from './broadcasts.service.js';
import { UUID } from '@eventcast/read-models';

/** Broadcast details (live or past). */
@ApiTags('broadcasts')
@Controller('broadcasts')
export class BroadcastsController {
  constructor(@Inject(BroadcastsService) private readonly broadcasts: BroadcastsService) {}

  /**
   * One broadcast.
   * @throws {BadRequestException} when `id` is not a UUID.
   * @throws {NotFoundException} when no such broadcast exists.
   */
  @Get(':id')
  @ApiOkResponse({ type: BroadcastViewDto })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'unknown broadcast' })
  async one(@Param('id') id: string): Promise<BroadcastViewDto> {
    if (!UUID.test(id)) throw new BadRequestException('broadcast id must be a UUID');
    const broadcast = await this.broadcasts.get(id.toLowerCase());
    if (!broadcast) throw new NotFoundException(`broadcast "${id}" not found`);
    return broadcast;
  }
}
