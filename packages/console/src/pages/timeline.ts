import { css, html, nothing } from 'lit';
import type { TimelineItem } from '../api.ts';
import type { StringKey, Translator } from '../i18n/index.ts';

export const timelineStyles = css`
  ol.timeline {
    list-style: none;
    margin: 0 0 1rem;
    padding: 0;
  }
  ol.timeline > li {
    border-left: 3px solid var(--lk-border);
    padding: 0.4rem 0 0.8rem 0.9rem;
    position: relative;
  }
  ol.timeline > li[data-outcome='failure'] {
    border-left-color: var(--lk-danger);
  }
  ol.timeline > li[data-outcome='success'] {
    border-left-color: var(--lk-success);
  }
  .when {
    color: var(--lk-muted);
    font-size: 0.85rem;
  }
  .what {
    font-weight: 600;
    display: flex;
    flex-wrap: wrap;
    gap: 0.4rem;
    align-items: center;
  }
  .detail {
    color: var(--lk-muted);
    font-size: 0.875rem;
  }
  .explain {
    margin-top: 0.5rem;
    border-radius: 8px;
    padding: 0.6rem 0.8rem;
    background: var(--lk-info-bg);
    border: 1px solid var(--lk-border);
  }
  .explain[data-severity='warning'] {
    background: var(--lk-warning-bg);
    border-color: var(--lk-warning);
  }
  .explain[data-severity='danger'] {
    background: var(--lk-danger-bg);
    border-color: var(--lk-danger);
  }
  .explain dt {
    font-weight: 700;
    font-size: 0.8rem;
    text-transform: uppercase;
    letter-spacing: 0.04em;
  }
  .explain dd {
    margin: 0 0 0.4rem;
    font-size: 1.02rem;
  }
  .explain dd.tell {
    font-size: 1.1rem;
    font-weight: 600;
  }
`;

/** One timeline entry: when, what, outcome, device; a failure's meaning and what to tell the user stand out. */
export function renderTimelineItem(item: TimelineItem, tr: Translator) {
  const { t } = tr;
  const device = item.device ? [item.device.browser, item.device.os].filter(Boolean).join(' · ') : '';
  const outcomeClass = item.outcome === 'failure' ? 'badge bad' : item.outcome === 'success' ? 'badge ok' : 'badge';
  const details = [device && `${t.device}: ${device}`, item.ip && `${t.ip}: ${item.ip}`, item.code && `${t.code}: ${item.code}`, item.reason && `${item.outcome === 'failure' ? t.detail : t.reason}: ${item.reason}`].filter(Boolean);
  return html`<li data-outcome=${item.outcome} data-type=${item.type}>
    <div class="when"><time datetime=${item.at}>${tr.dateTime(item.at)}</time></div>
    <div class="what">
      <span>${item.title || item.type}</span>
      <span class=${outcomeClass}>${t[`outcome_${item.outcome}` as StringKey] ?? item.outcome}</span>
    </div>
    ${details.length ? html`<div class="detail">${details.join(' · ')}</div>` : nothing}
    ${item.explanation
      ? html`<dl class="explain" data-severity=${item.explanation.severity}>
          <dt>${t.whatItMeans}</dt>
          <dd>${item.explanation.meaning}</dd>
          <dt>${t.whatToTell}</dt>
          <dd class="tell">${item.explanation.tellUser}</dd>
        </dl>`
      : nothing}
  </li>`;
}
