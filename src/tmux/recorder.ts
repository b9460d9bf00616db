import {execFile} from 'node:child_process'
import {join} from 'node:path'

import {shellCommand} from '../shared/shell.js'
import {exactPane, formatLiteral} from './client.js'
import {AGENT_ID_VARIABLE} from './sessions.js'

/**
 * Records everything a pane prints as an asciicast v2 file, from a small perl program that tmux
 * starts with `pipe-pane -O`: it runs without any maestro process alive and ends when the pane
 * closes. perl because it is on every system tmux runs on and costs a few MB per agent, where a
 * Node process per agent would cost tens.
 *
 * What it does, in order: each read of pane output becomes one `[seconds, "o", data]` line,
 * written with one write(2), so a recorder killed at any moment leaves whole lines. A UTF-8
 * character split between two reads waits for its end; bytes that are not UTF-8 become U+FFFD
 * (asciicast is JSON), searched for byte by byte only in a read that is not UTF-8 as a whole.
 * Before each event it reads the pane's size from its tty (TIOCGWINSZ; the
 * tty is opened and closed again, never held, so tmux still sees the pane end) and writes a
 * `[seconds, "r", "COLSxROWS"]` event when it changed. Past `limit` bytes it keeps the newest
 * half: header, an `"m"` marker saying older output was dropped, then the newer events with their
 * times, written to a temporary file renamed over the recording. A file that exists already (the
 * pane's program restarted) is appended to, its times counted from its header's timestamp. HUP,
 * INT and TERM are ignored: the pane closing ends the input, and `kill` waits for the recorder to
 * have written its last output (it carries the agent's id, so kill finds it).
 */
const RECORDER = String.raw`use strict; use warnings;
use Fcntl qw(O_WRONLY O_CREAT O_APPEND O_TRUNC O_RDONLY O_NOCTTY O_NONBLOCK);
BEGIN { eval { require Time::HiRes; Time::HiRes->import('time'); 1 } }
my ($file, $limit, $tty) = @ARGV;
$SIG{$_} = 'IGNORE' for qw(HUP INT TERM PIPE);
my $winsz = $^O eq 'linux' ? 0x5413 : 0x40087468;
sub size {
  sysopen(my $fd, $tty, O_RDONLY | O_NOCTTY | O_NONBLOCK) or return;
  my $ws = "\0" x 8; my $ok = ioctl($fd, $winsz, $ws); close $fd;
  return unless $ok;
  my ($rows, $cols) = unpack('S2', $ws);
  return $cols && $rows ? $cols . 'x' . $rows : undef;
}
my %escape = map { chr($_) => sprintf('\\u%04x', $_) } (0 .. 31, 127);
sub json {
  my $s = shift;
  my $copy = $s;
  if (!utf8::decode($copy)) {
    $s =~ s/([\x00-\x7f]+|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})|[\x80-\xff]/defined $1 ? $1 : "\xef\xbf\xbd"/ge;
  }
  $s =~ s/(["\\])/\\$1/g;
  $s =~ s/([\x00-\x1f\x7f])/$escape{$1}/g;
  return '"' . $s . '"';
}
sub incomplete {
  my $s = shift; my $len = length $s;
  for my $back (1 .. 3) {
    last if $back > $len;
    my $c = ord substr($s, $len - $back, 1);
    next if ($c & 0xc0) == 0x80;
    return 0 if $c < 0xc0;
    my $need = $c >= 0xf0 ? 4 : $c >= 0xe0 ? 3 : 2;
    return $need > $back ? $back : 0;
  }
  return 0;
}
my $size = size() || '80x24';
my $start = time;
sysopen(my $out, $file, O_WRONLY | O_CREAT | O_APPEND, 0600) or exit 1;
my $bytes = -s $out;
if ($bytes) {
  open(my $in, '<', $file) or exit 1;
  my $first = <$in>; close $in;
  $start = $1 if defined $first && $first =~ /"timestamp":(\d+)/;
} else {
  my ($w, $h) = split /x/, $size;
  my $header = '{"version":2,"width":' . $w . ',"height":' . $h . ',"timestamp":' . int($start) . '}' . "\n";
  syswrite($out, $header); $bytes = length $header;
}
sub emit { my $line = shift; syswrite($out, $line); $bytes += length $line; }
sub trim {
  open(my $in, '<', $file) or return;
  my $header = <$in>;
  seek($in, $bytes - int($limit / 2), 0) or return;
  <$in>;
  my $next = <$in>;
  return unless defined $next && $next =~ /^\[([0-9.]+),/;
  my $at = $1;
  sysopen(my $new, "$file.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0600) or return;
  syswrite($new, $header . '[' . $at . ', "m", "maestro: older output was dropped here (recordingLimitMB)"]' . "\n" . $next);
  my $block;
  while (read($in, $block, 65536)) { syswrite($new, $block); }
  close $new; close $in;
  rename("$file.tmp", $file) or return;
  close $out;
  sysopen($out, $file, O_WRONLY | O_APPEND) or exit 1;
  $bytes = -s $out;
}
my $pending = '';
while (1) {
  my $n = sysread(STDIN, my $chunk, 65536);
  if (!defined $n) { next if $!{EINTR}; last; }
  if ($n) { $pending .= $chunk; } else { last if $pending eq ''; }
  my $hold = $n ? incomplete($pending) : 0;
  my $data = substr($pending, 0, length($pending) - $hold);
  $pending = substr($pending, length($pending) - $hold);
  if ($data ne '') {
    my $now = sprintf('%.6f', time - $start);
    my $s = size();
    if ($s && $s ne $size) { $size = $s; emit('[' . $now . ', "r", "' . $s . '"]' . "\n"); }
    emit('[' . $now . ', "o", ' . json($data) . ']' . "\n");
    trim() if $bytes > $limit;
  }
  last unless $n;
}
`

/**
 * Prints a recording on a remote host once its recorder has ended, so that kill fetches all of
 * it: waits (at most 10 s) until no process but this one has the file among its arguments, which
 * on Linux is read from /proc (elsewhere it does not wait, as kill does not here). Exits 3 when
 * there is no recording: the agent started without perl, or before recordings existed.
 */
const COLLECTOR = String.raw`use strict; use warnings; use Cwd qw(abs_path);
my ($file) = @ARGV;
exit 3 unless -f $file;
my $path = abs_path($file);
my $deadline = time + 10;
while (time < $deadline) {
  my $busy = 0;
  for my $cmdline (glob '/proc/[0-9]*/cmdline') {
    next if $cmdline eq "/proc/$$/cmdline";
    open(my $in, '<', $cmdline) or next;
    my $words = do { local $/; <$in> }; close $in;
    if (defined $words && index("\0" . $words, "\0" . $path . "\0") >= 0) { $busy = 1; last; }
  }
  last unless $busy;
  select(undef, undef, undef, 0.05);
}
open(my $cast, '<', $file) or exit 3;
binmode $cast; binmode STDOUT;
my $block;
while (read($cast, $block, 65536)) { print $block; }
`

/** The command, as words for a remote shell, that waits for the recording `file` to be whole and prints it. */
export function collectRecordingCommand(file: string): string[] {
  return ['perl', '-e', COLLECTOR, file]
}

export interface Recording {
  /** The asciicast file; created 0600 by the recorder when missing, appended to otherwise. */
  file: string
  /** Past this many bytes the oldest output is dropped. */
  limitBytes: number
}

/**
 * The tmux command that starts recording an agent's pane into `recording.file`. The shell
 * command goes through shellCommand (shared/shell.ts) and then formatLiteral, since tmux expands
 * formats and strftime in it before /bin/sh parses it; only the pane's tty is a format on purpose.
 */
export function recordPaneCommand(name: string, agentId: string, recording: Recording): string[] {
  const command = shellCommand(['exec', 'env', `${AGENT_ID_VARIABLE}=${agentId}`, 'perl', '-e', RECORDER, recording.file, String(Math.floor(recording.limitBytes))])
  return ['pipe-pane', '-O', '-t', exactPane(name), `${formatLiteral(command, {strftime: true})} '#{pane_tty}'`]
}

/** An agent's recording while it runs: named after its id, so a rename keeps writing into it. */
export function recordingFile(dir: string, agentId: string): string {
  return join(dir, `${agentId}.cast`)
}

/**
 * Whether this machine can record agents: perl, with Time::HiRes for sub-second times (without
 * it the recorder still runs, timing output to the second). Says what is missing, or undefined.
 */
export function recorderProblem(): Promise<'no perl' | 'no Time::HiRes' | undefined> {
  return new Promise((resolve) => {
    execFile('perl', ['-MTime::HiRes', '-e', '1'], (error) => {
      if (!error) return resolve(undefined)
      resolve((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no perl' : 'no Time::HiRes')
    })
  })
}
