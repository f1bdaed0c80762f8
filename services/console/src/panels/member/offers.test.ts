import { audienceText } from './offers';

const offer = (audience: Record<string, unknown> | undefined) => ({
  id: 'o-1',
  source: 'merchant',
  title: 'An offer',
  audience,
});

describe('who an offer is for, in words', () => {
  it("when a programme offer has the catalogue's audience, then it reads as a tier floor or 88VIP", () => {
    expect(audienceText(offer({ minTier: 'BLACK_DIAMOND' }))).toBe('Black Diamond and above');
    expect(audienceText(offer({ vip88: true }))).toBe('88VIP members');
  });

  it('when a merchant offer targets tiers, categories and 88VIP, then each part is named; with none, every member', () => {
    expect(
      audienceText(
        offer({ tiers: ['DIAMOND', 'BLACK_DIAMOND'], categories: ['meal', 'grocery'], vip88: true }),
      ),
    ).toBe('Diamond, Black Diamond · 88VIP members · on meal, grocery');
    expect(audienceText(offer({ tiers: null, categories: null, vip88: false }))).toBe('every member');
    expect(audienceText(offer(undefined))).toBe('every member');
  });
});
