/**
 * A clock a test sets by hand (frozen), or runs from a chosen instant at real speed: what the
 * services' injectable clocks (`now`, `clock`) are given, so a test can walk through evaluations.
 */
export class TestClock {
  private frozen: Date | undefined;
  private offsetMs = 0;
  constructor(at: Date | string) {
    this.frozen = new Date(at);
  }
  now = (): Date => (this.frozen ? new Date(this.frozen) : new Date(Date.now() + this.offsetMs));
  set(at: string | Date): void {
    this.frozen = new Date(at);
  }
  runFrom(at: string | Date): void {
    this.frozen = undefined;
    this.offsetMs = new Date(at).getTime() - Date.now();
  }
}
