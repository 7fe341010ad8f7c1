// An accessibility audit of the page as it stands, with axe-core (WCAG 2.x A and AA rules).
// The script is evaluated through the DevTools protocol, so the page keeps its strict CSP.
'use strict';
const fs = require('fs');

const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// The violations: rule id, impact, and the first few offending elements.
async function audit(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
  });
}

module.exports = { audit };
