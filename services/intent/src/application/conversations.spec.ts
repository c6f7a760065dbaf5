import { TurnSettings } from './conversations';

describe('TurnSettings', () => {
  it('reads the answer wait and the overdue deadline from the environment, with defaults', () => {
    expect(TurnSettings.fromEnvironment({})).toMatchObject({ answerTimeoutMs: 15000, deadlineMs: 60000 });
    expect(
      TurnSettings.fromEnvironment({ ASSENT_TURN_TIMEOUT_MS: '300', ASSENT_TURN_DEADLINE_MS: '1500' }),
    ).toMatchObject({ answerTimeoutMs: 300, deadlineMs: 1500 });
  });

  it('refuses a deadline that is not a whole number or comes before the answer wait ends', () => {
    expect(() => TurnSettings.fromEnvironment({ ASSENT_TURN_DEADLINE_MS: 'soon' })).toThrow(/ASSENT_TURN_DEADLINE_MS/);
    expect(() => TurnSettings.fromEnvironment({ ASSENT_TURN_DEADLINE_MS: '1500.5' })).toThrow(/whole number/);
    expect(() => TurnSettings.fromEnvironment({ ASSENT_TURN_DEADLINE_MS: '10000' })).toThrow(/at least/);
  });
});
