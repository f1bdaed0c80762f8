/** Scoring's backtests (`/v1/admin/backtests`), as the console shows them (README: Backtests). */
import type { BacktestSummary } from '@taobi/contracts';

export type {
  BacktestAnswer,
  BacktestSample,
  BacktestSide,
  BacktestSummary,
  LiabilityLine,
} from '@taobi/contracts';

export interface BacktestsAnswer {
  backtests: BacktestSummary[];
}
