import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AssistantsModule } from '../assistants/assistants.module';
import { CallsModule } from '../calls/calls.module';
import { SmsModule } from '../sms/sms.module';
import { ConversationsService } from './conversations.service';
import { SmsConversationsController } from './sms-conversations.controller';
import { SmsTurnEntity } from './sms-turn.entity';
import { SmsTurnRepository } from './sms-turn.repository';

/** The turn loop of assistants' conversations; owns the SMS conversations' turns (a call's turns are the calls module's). */
@Module({
  imports: [AssistantsModule, CallsModule, SmsModule, TypeOrmModule.forFeature([SmsTurnEntity])],
  controllers: [SmsConversationsController],
  providers: [ConversationsService, SmsTurnRepository],
  exports: [ConversationsService],
})
export class ConversationsModule {}
