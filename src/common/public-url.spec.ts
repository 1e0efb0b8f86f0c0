import { publicApiBaseUrl, recordingAudioUrl } from './public-url';

describe('publicApiBaseUrl', () => {
  it('is the webhook base without its route, so a proxy path in front is kept', () => {
    expect(publicApiBaseUrl('https://phone.example.com/api/phone/webhook')).toBe('https://phone.example.com/api/phone');
    expect(publicApiBaseUrl('https://example.com/svc/api/phone/webhook/')).toBe('https://example.com/svc/api/phone');
    expect(publicApiBaseUrl('http://localhost:8000/api/phone/webhook#rc=5')).toBe('http://localhost:8000/api/phone');
  });

  it('falls back to the origin and the API prefix for a base with another path', () => {
    expect(publicApiBaseUrl('https://hooks.example.com/twilio')).toBe('https://hooks.example.com/api/phone');
  });
});

describe('recordingAudioUrl', () => {
  it('names the audio route of the recording', () => {
    expect(recordingAudioUrl('https://phone.example.com/api/phone', 'RE0123')).toBe(
      'https://phone.example.com/api/phone/recordings/RE0123/audio',
    );
  });
});
