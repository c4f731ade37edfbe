// Log lines like the dashboard's (level, logger name, message) on stderr. Secrets are never
// passed here: messages carry client ids, usernames and reasons only.
const LEVELS = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 }

export function logger (level = 'INFO') {
  const threshold = LEVELS[String(level).toUpperCase()] ?? LEVELS.INFO
  const write = (name, value) => (message) => {
    if (value >= threshold) process.stderr.write(`${new Date().toISOString()} ${name} cloudsignal.broker: ${message}\n`)
  }
  return {
    debug: write('DEBUG', LEVELS.DEBUG),
    info: write('INFO', LEVELS.INFO),
    warning: write('WARNING', LEVELS.WARNING),
    error: write('ERROR', LEVELS.ERROR)
  }
}
