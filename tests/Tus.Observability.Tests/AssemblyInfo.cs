// The engine's meter and activity source are one per process: tests that listen to them run one at a time, so that
// the figures each one asserts are its own.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
