/** One event of a Chrome JSON trace, as the trace tests read it. */
export interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid?: number;
  ts: number;
  dur?: number;
  cat?: string;
  s?: string;
  args?: Record<string, unknown>;
}
