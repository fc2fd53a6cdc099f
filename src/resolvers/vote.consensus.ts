// Community consensus on an object's class: every current vote weighs its confidence; the label with the highest
// summed confidence wins, with its share of the total. Pure, so the numbers are tested without a database.

export interface LabelTally {
  label: string;
  voters: number;
  /** Summed confidence of the votes for this label. */
  confidence: number;
  /** confidence / total confidence of all votes (0 when the total is 0). */
  share: number;
}

export interface ConsensusResult {
  /** The winning label; null without votes or when every vote has confidence 0. */
  label: string | null;
  /** The winning label's share of the total confidence (0 to 1; 0 when there is no winner). */
  share: number;
  voters: number;
  totalConfidence: number;
  /** Every voted label, strongest first (ties: more voters, then label order). */
  breakdown: LabelTally[];
}

export function computeConsensus(votes: readonly { label: string; confidence: number }[]): ConsensusResult {
  const byLabel = new Map<string, { voters: number; confidence: number }>();
  for (const vote of votes) {
    const tally = byLabel.get(vote.label) ?? { voters: 0, confidence: 0 };
    tally.voters += 1;
    tally.confidence += vote.confidence;
    byLabel.set(vote.label, tally);
  }
  const totalConfidence = [...byLabel.values()].reduce((sum, tally) => sum + tally.confidence, 0);
  const breakdown = [...byLabel.entries()]
    .map(([label, tally]) => ({
      label,
      voters: tally.voters,
      confidence: tally.confidence,
      share: totalConfidence > 0 ? tally.confidence / totalConfidence : 0,
    }))
    .sort(
      (a, b) =>
        b.confidence - a.confidence ||
        b.voters - a.voters ||
        (a.label < b.label ? -1 : a.label > b.label ? 1 : 0),
    );
  const winner = totalConfidence > 0 ? breakdown[0] : undefined;
  return {
    label: winner?.label ?? null,
    share: winner?.share ?? 0,
    voters: votes.length,
    totalConfidence,
    breakdown,
  };
}
