// Mutation runs judge each mutant with 10 property runs instead of 500 (npm test): Jest cannot bail, so every
// covering property runs for every mutant. The table tests carry the exact oracles; the properties add breadth.
process.env.RELIABILITY_PROPERTY_RUNS ??= '10';
