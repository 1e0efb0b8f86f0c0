import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AssistantsModule } from '../assistants/assistants.module';
import { CallsModule } from '../calls/calls.module';
import { EventsModule } from '../events/events.module';
import { GuardrailsModule } from '../guardrails/guardrails.module';
import { SmsModule } from '../sms/sms.module';
import { CampaignAttemptEntity } from './campaign-attempt.entity';
import { CampaignPacingSlotEntity } from './campaign-pacing-slot.entity';
import { CampaignEngine } from './campaign-engine.service';
import { CampaignEntity } from './campaign.entity';
import { CampaignRecipientEntity } from './campaign-recipient.entity';
import { CampaignRepository } from './campaign.repository';
import { CampaignsController } from './campaigns.controller';
import { CampaignsService } from './campaigns.service';

/** Campaigns: many calls or texts, paced, in calling hours, retried; placed through the calls and SMS services. */
@Module({
  imports: [
    TypeOrmModule.forFeature([CampaignEntity, CampaignRecipientEntity, CampaignAttemptEntity, CampaignPacingSlotEntity]),
    AssistantsModule,
    CallsModule,
    SmsModule,
    EventsModule,
    GuardrailsModule,
  ],
  controllers: [CampaignsController],
  providers: [CampaignRepository, CampaignsService, CampaignEngine],
})
export class CampaignsModule {}
