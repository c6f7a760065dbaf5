/** What a figure group receives: the arguments after its name. */
export interface BenchContext {
  args: string[];
}

/** A figure group module: prints its BENCH lines (stdout) and throws on any failure. */
export interface BenchGroup {
  run(ctx: BenchContext): Promise<void>;
}
