import { MigrationInterface, QueryRunner } from 'typeorm';

export class OneTimelineEntryPerStatus1796186903388 implements MigrationInterface {
  name = 'OneTimelineEntryPerStatus1796186903388';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"uq_status_events_resource_status\"");
    // a status seen more than once becomes one entry: the earliest time, the callback's sequence and source
    await queryRunner.query(
      `WITH merged AS (
         SELECT resource_sid, status, MIN(occurred_at) AS occurred_at, MAX(sequence_number) AS sequence_number,
                (ARRAY_AGG(source ORDER BY sequence_number DESC, occurred_at))[1] AS source,
                (ARRAY_AGG(error_code ORDER BY occurred_at) FILTER (WHERE error_code IS NOT NULL))[1] AS error_code,
                (ARRAY_AGG(id ORDER BY occurred_at, id))[1] AS keep
         FROM status_events GROUP BY resource_sid, status HAVING COUNT(*) > 1
       ), kept AS (
         UPDATE status_events e SET occurred_at = m.occurred_at, sequence_number = m.sequence_number, source = m.source, error_code = m.error_code
         FROM merged m WHERE e.id = m.keep
         RETURNING e.id
       )
       DELETE FROM status_events e USING merged m
       WHERE e.resource_sid = m.resource_sid AND e.status = m.status AND e.id <> m.keep`,
    );
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_status_events_resource_status\" ON \"status_events\"  (\"resource_sid\", \"status\") ");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"uq_status_events_resource_status\"");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_status_events_resource_status\" ON \"status_events\" USING btree (\"resource_sid\", \"sequence_number\", \"status\") ");
  }
}
