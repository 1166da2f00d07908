// A horizontal bar chart as an SVG string: no chart library, no fonts to load.
export function barChart(title, bars) {
  const rowH = 28;
  const labelW = 190;
  const chartW = 420;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = 40 + bars.length * rowH + 10;
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = bars
    .map((b, i) => {
      const y = 40 + i * rowH;
      const w = Math.max(1, Math.round((b.value / max) * chartW));
      const ours = b.label === 'Pool';
      return (
        `<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(b.label)}</text>` +
        `<rect x="${labelW}" y="${y + 4}" width="${w}" height="${rowH - 8}" fill="${ours ? '#2a7ae2' : '#9aa5b1'}"/>` +
        `<text x="${labelW + w + 6}" y="${y + 17}">${Math.round(b.value).toLocaleString('en-US')}</text>`
      );
    })
    .join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + chartW + 90}" height="${height}" font-family="sans-serif" font-size="13">
  <text x="10" y="22" font-weight="bold">${esc(title)}</text>
  ${rows}
</svg>
`;
}
