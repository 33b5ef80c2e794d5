// Mutation runs judge each mutant with fewer property runs than npm test (500); still every generator branch.
process.env.RELIABILITY_PROPERTY_RUNS ??= '40';
