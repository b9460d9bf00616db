/**
 * The passphrase of encrypted notes, from MAESTRO_PASSPHRASE or asked once on a terminal. Kept
 * apart from sealing.ts so that taking it out of the environment costs nothing (no node:crypto).
 * Held here for the whole process rather than in its Context: a secret is better in one place
 * than in the object every module is handed (and the server's API copies), and the terminal it is
 * asked on is the process's own, so it is asked at most once per process.
 */
let given: string | undefined
let taken = false
let prompting = false
let asked = false

/**
 * Reads MAESTRO_PASSPHRASE once and removes it from `env` (the process's, from its context), so
 * that no process started from here inherits it: not the tmux server, not the agents, not an editor.
 */
export function takePassphrase(env: NodeJS.ProcessEnv): void {
  if (taken) return
  taken = true
  given = env.MAESTRO_PASSPHRASE || undefined
  delete env.MAESTRO_PASSPHRASE
}

/** Lets this process ask for the passphrase on its terminal (once) when the environment has none. */
export function allowPassphrasePrompt(): void {
  prompting = true
}

/** The passphrase, or undefined when none was given and none can be asked for. */
export async function passphrase(): Promise<string | undefined> {
  if (given === undefined && prompting && !asked && process.stdin.isTTY && process.stderr.isTTY) {
    asked = true
    given = (await ask('Passphrase for maestro notes: ')) || undefined
  }
  return given
}

/** Reads one line from the terminal without echoing it. */
function ask(prompt: string): Promise<string> {
  const input = process.stdin
  process.stderr.write(prompt)
  input.setRawMode(true)
  input.resume()
  input.setEncoding('utf8')
  return new Promise((resolve) => {
    let typed = ''
    const done = () => {
      input.off('data', onData)
      input.setRawMode(false)
      input.pause()
      process.stderr.write('\n')
      resolve(typed)
    }
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return done()
        // Ctrl-C and Ctrl-D: the user gave up, as if no passphrase was given (the notes stay locked).
        if (char === '\u0003' || char === '\u0004') {
          typed = ''
          return done()
        }
        if (char === '\u007F' || char === '\b') typed = typed.slice(0, -1)
        else typed += char
      }
    }
    input.on('data', onData)
  })
}
