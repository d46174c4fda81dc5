/** OpenAPI document (UI at `/docs`, JSON at `/docs-json`) with bearer auth declared. */
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Mounts the OpenAPI UI and JSON on `app`. */
export function setupSwagger(app: INestApplication): void {
  const doc = new DocumentBuilder()
    .setTitle('Eventcast command API')
    .setDescription('Commands of the Eventcast live streaming platform (event-sourced). Errors: `{ statusCode, error, message }`.')
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc), { jsonDocumentUrl: 'docs-json' });
}
