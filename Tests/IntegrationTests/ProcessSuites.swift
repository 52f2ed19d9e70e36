import Testing

/// The suites that start several services (as processes, or four in-process at a time) or a
/// browser run one after another: on two cores, together they starved the rest of the suite
/// past its time limits.
@Suite(.serialized) enum HeavySuites {}
