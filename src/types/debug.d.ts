// The part of the `debug` package's API hub uses (it ships no types of its own).
declare module 'debug' {
  interface DebugControl {
    /** Whether a namespace's output is on. */
    enabled(namespace: string): boolean;
    /** Turns namespaces on and off, in DEBUG's syntax (`*,-modem`). */
    enable(namespaces: string): void;
    /** Turns all output off and returns what was on, in DEBUG's syntax. */
    disable(): string;
  }
  const debug: DebugControl;
  export default debug;
}
