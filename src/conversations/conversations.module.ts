import { Module } from '@nestjs/common';
import { AssistantsModule } from '../assistants/assistants.module';
import { CallsModule } from '../calls/calls.module';
import { SmsModule } from '../sms/sms.module';
import { ConversationsService } from './conversations.service';

/** The turn loop of assistants' conversations; owns no table (turns are the calls module's). */
@Module({
  imports: [AssistantsModule, CallsModule, SmsModule],
  providers: [ConversationsService],
  exports: [ConversationsService],
})
export class ConversationsModule {}
