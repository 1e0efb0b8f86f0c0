import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventAttemptEntity } from './event-attempt.entity';
import { EventDeliveryEntity } from './event-delivery.entity';
import { EventDeliveryService } from './event-delivery.service';
import { EventEndpointEntity } from './event-endpoint.entity';
import { EventEndpointRepository } from './event-endpoint.repository';
import { EventEndpointsController } from './event-endpoints.controller';
import { EventEndpointsService } from './event-endpoints.service';
import { EventEntity } from './event.entity';
import { EventRepository } from './event.repository';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/**
 * Platform events: endpoints, the outbox the other modules write into (EventsService.record, in
 * their transactions) and delivery with pg-boss. It imports no record module: they import it.
 */
@Module({
  imports: [TypeOrmModule.forFeature([EventEndpointEntity, EventEntity, EventDeliveryEntity, EventAttemptEntity])],
  controllers: [EventEndpointsController, EventsController],
  providers: [EventEndpointRepository, EventRepository, EventEndpointsService, EventsService, EventDeliveryService],
  exports: [EventsService],
})
export class EventsModule {}
