/**
 * Jest runs tests in a vm context whose Symbol lacks Node 20's
 * Symbol.dispose / Symbol.asyncDispose (Node adds them to the main realm
 * only). They are registered symbols, the same in every realm: add them, so
 * `using` works in tests as it does in plain Node.
 */
const symbols = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
symbols.dispose ??= Symbol.for('nodejs.dispose');
symbols.asyncDispose ??= Symbol.for('nodejs.asyncDispose');
