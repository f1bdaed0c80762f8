/** Scoring's backtests (`/v1/admin/backtests`), as far as the console shows them (README: Backtests). */
export interface BacktestSummary {
  id: string;
  name: string;
  status: 'running' | 'completed' | 'failed' | string;
  progress: { done: number; total: number };
  asOf: string;
  createdAt: string;
  completedAt: string | null;
  error?: string;
}

export interface BacktestsAnswer {
  backtests: BacktestSummary[];
}

export interface BacktestSide {
  ruleVersion: string;
  catalogueVersion: string;
  evaluationAt: string;
  tiers: Record<string, number>;
  vip88Eligible: number;
  benefits: Record<string, number>;
}

export interface LiabilityLine {
  before: number;
  after: number;
  unitCost?: number;
  unit: 'fen' | 'grants';
}

export interface BacktestSample {
  memberId: string;
  before: { score: number; tier: string };
  after: { score: number; tier: string };
}

/** One backtest: its summary and the comparison (partial while it runs). */
export interface BacktestAnswer extends BacktestSummary {
  baseline?: BacktestSide;
  candidate?: BacktestSide;
  moves?: { up: number; down: number; byPair: Record<string, number> };
  liability?: Record<string, LiabilityLine>;
  samples?: BacktestSample[];
  /** The candidate as scoring validated it (an overlay merged over the rules in force). */
  candidateRuleSet?: Record<string, unknown>;
}
