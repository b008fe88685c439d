using BenchmarkDotNet.Running;

// bench/micro.sh runs every benchmark; pass BenchmarkDotNet's own options through, e.g. --filter '*Metadata*'.
BenchmarkSwitcher.FromAssembly(typeof(Tus.MicroBench.HeaderParsing).Assembly).Run(args);
