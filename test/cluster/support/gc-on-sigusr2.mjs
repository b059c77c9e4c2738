// Preloaded (NODE_OPTIONS="--expose-gc --import=…") into a server under test, never in the
// product: SIGUSR2 runs a full garbage collection and says so on stdout, so that the flood
// test can tell memory the service keeps from garbage that is merely not collected yet.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  console.log(JSON.stringify({ msg: 'test gc done', heapUsed, rss }));
});
