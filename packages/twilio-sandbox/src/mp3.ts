/**
 * A silent MP3 as long as the recording: a stream of MPEG-2 Layer III frames (16 kHz, mono, 8 kbit/s)
 * whose side information is all zeros, so every frame decodes to 576 samples of silence. Built from
 * frame headers rather than encoded, since the sandbox has no audio worth compressing.
 */
const SAMPLE_RATE = 16_000;
const SAMPLES_PER_FRAME = 576;
const BITRATE = 8_000;
/** 72 × bitrate / sample rate for MPEG-2 Layer III, no padding: 36 bytes. */
const FRAME_BYTES = (72 * BITRATE) / SAMPLE_RATE;
/**
 * Sync word, MPEG-2 (`10`), Layer III (`01`), no CRC; bitrate index 1 (8 kbit/s), sample rate index 2
 * (16 kHz), no padding; single channel, no copyright, not original, no emphasis.
 */
const HEADER = [0xff, 0xf3, 0x18, 0xc0];

export function silentMp3(seconds: number): Buffer {
  const frames = Math.max(1, Math.round((seconds * SAMPLE_RATE) / SAMPLES_PER_FRAME));
  const frame = Buffer.alloc(FRAME_BYTES);
  Buffer.from(HEADER).copy(frame);
  const out = Buffer.alloc(frames * FRAME_BYTES);
  for (let i = 0; i < frames; i++) frame.copy(out, i * FRAME_BYTES);
  return out;
}
