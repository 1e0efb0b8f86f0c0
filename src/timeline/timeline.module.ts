import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { StatusEventEntity } from './status-event.entity';
import { TimelineService } from './timeline.service';

/** The status timeline shared by calls and messages (status_events). */
@Module({
  imports: [TypeOrmModule.forFeature([StatusEventEntity])],
  providers: [TimelineService],
  exports: [TimelineService],
})
export class TimelineModule {}
