import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AssistantEntity } from './assistant.entity';
import { AssistantRepository } from './assistant.repository';
import { AssistantsController } from './assistants.controller';
import { AssistantsService } from './assistants.service';

/** Assistants: the agents that hold conversations on calls and SMS; owns the assistants table. */
@Module({
  imports: [TypeOrmModule.forFeature([AssistantEntity])],
  controllers: [AssistantsController],
  providers: [AssistantRepository, AssistantsService],
  exports: [AssistantsService],
})
export class AssistantsModule {}
