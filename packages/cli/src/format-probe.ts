import type { ProbeResult, StreamInfo } from '@framecraft/io';

function rate(r: { num: number; den: number }): string {
  if (r.den === 0 || r.num === 0) return '?';
  const v = r.num / r.den;
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

function describeStream(s: StreamInfo): string {
  if (s.type === 'video') {
    const parts = [
      `${s.width}x${s.height}`,
      `${rate(s.avgFrameRate)} fps${s.vfr ? ' (VFR)' : ''}`,
      s.pixelFormat,
      `${s.bitDepth}-bit`,
      `${s.color.range}/${s.color.matrix}/${s.color.primaries}/${s.color.transfer}`,
    ];
    if (s.hdr) parts.push('HDR');
    if (s.rotation) parts.push(`rotated ${s.rotation}°`);
    if (s.sampleAspect.num !== s.sampleAspect.den)
      parts.push(`SAR ${s.sampleAspect.num}:${s.sampleAspect.den}`);
    if (s.frameCount) parts.push(`${s.frameCount} frames`);
    if (s.attachedPicture) parts.push('cover art');
    return parts.join(', ');
  }
  if (s.type === 'audio') return `${s.sampleRate} Hz, ${s.channels} ch, ${s.sampleFormat}`;
  return s.language ? `language ${s.language}` : '';
}

/**
 * Render a probe result as an aligned human-readable table.
 *
 * @param info - The probe result.
 * @returns Text for a terminal.
 */
export function formatProbe(info: ProbeResult): string {
  const head = [
    `File:      ${info.file}`,
    `Container: ${info.containerLongName || info.container}`,
    `Duration:  ${info.duration.toFixed(3)} s${info.startTime ? ` (starts at ${info.startTime.toFixed(3)} s)` : ''}`,
    `Bit rate:  ${info.bitRate > 0 ? `${Math.round(info.bitRate / 1000)} kb/s` : 'unknown'}`,
    '',
  ];
  const rows = info.streams.map((s) => [
    `#${s.index}`,
    s.type,
    s.codec,
    s.duration ? `${s.duration.toFixed(3)} s` : '',
    s.language ?? '',
    describeStream(s),
  ]);
  const header = ['stream', 'type', 'codec', 'duration', 'lang', 'details'];
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]): string =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [...head, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
