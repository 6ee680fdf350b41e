// The command centre: how each agency serves the court, and assets found by the watches.
// Service figures come from `agencies`; controls sent, done and overdue per agency from
// `agencyWorkload`, counted by the gateway over every request of the caller's court.
import { gql, subscribeMany } from "../api.js";
import { AGENCY, CIRCUIT, HEALTH, caseHref, errorList, h, link, render, table, time } from "../ui.js";

const AGENCIES = `query CommandCentre {
  agencies { name health circuitState stats { requests errors timeouts p95Ms } }
  agencyWorkload { agency sent completed failed overdue }
}`;
const WATCHED = `query CommandWatched {
  cases(first: 100) { edges { node { number } } }
}`;
const FOUND = `subscription Found($c: String!) {
  assetDiscovered(caseNumber: $c) { id caseNumber assetKind assetId change at }
}`;
const REFRESH_MS = 5000;
const WATCHED_CASES = 100; // one subscription each, all on one socket
const CHANGE = { NEW_ASSET: "新增财产", ENCUMBRANCE_CHANGED: "权利负担变化", SEIZURE_LIFTED: "查封解除", ASSET_GONE: "财产灭失或转移" };
const KIND = { REAL_ESTATE: "不动产", VEHICLE: "车辆", EQUITY: "股权" };

function isBad(a) {
  return a.health === "DOWN" || a.health === "DEGRADED" || a.circuitState !== "CLOSED";
}

export async function show(main) {
  const board = h("div", { id: "agency-board" });
  const found = [];
  const foundList = h("div", { id: "asset-events", "aria-live": "polite" });
  const stops = [];

  function drawFound() {
    render(
      foundList,
      found.length
        ? h("ul", {}, found.map((e) => h("li", {}, `${time(e.at)} `, link(caseHref(e.caseNumber), e.caseNumber), ` ${KIND[e.assetKind] || e.assetKind} ${e.assetId}：${CHANGE[e.change] || e.change}`)))
        : h("p", { class: "muted" }, "暂无新发现（实时接收中）。"),
    );
  }

  async function refresh() {
    const { data, errors } = await gql(AGENCIES);
    const controls = new Map((data?.agencyWorkload || []).map((w) => [w.agency, w]));
    const rows = (data?.agencies || []).map((a) => {
      const c = controls.get(a.name) || { sent: 0, completed: 0, failed: 0, overdue: 0 };
      const rate = a.stats.requests ? `${((100 * a.stats.errors) / a.stats.requests).toFixed(1)}%` : "—";
      return h(
        "tr",
        { class: isBad(a) ? "agency-bad" : "agency-ok", "data-agency": a.name, "data-health": a.health },
        h("th", { scope: "row" }, AGENCY[a.name] || a.name),
        h("td", { class: "state" }, HEALTH[a.health] || a.health),
        h("td", {}, CIRCUIT[a.circuitState] || a.circuitState),
        h("td", {}, a.stats.requests),
        h("td", {}, rate),
        h("td", {}, a.stats.p95Ms === null ? "—" : `${Math.round(a.stats.p95Ms)} ms`),
        h("td", { class: "sent" }, c.sent),
        h("td", { class: "completed" }, c.completed),
        h("td", { class: c.failed ? "failed bad" : "failed" }, c.failed),
        h("td", { class: c.overdue ? "overdue bad" : "overdue" }, c.overdue),
      );
    });
    render(
      board,
      errorList(errors),
      table(["协助单位", "状况", "熔断", "请求数", "错误率", "P95", "已送达控制", "已办结", "送达失败", "逾期未办"], rows, { id: "agencies" }),
      h("p", { class: "muted" }, `更新于 ${time(new Date().toISOString())}；控制数为本院全部协助请求。`),
    );
  }

  render(
    main,
    h("h1", {}, "指挥中心"),
    h("section", { class: "card" }, h("h2", {}, "协助单位"), board),
    h("section", { class: "card" }, h("h2", {}, "财产监控发现"), foundList),
  );
  const listed = await gql(WATCHED);
  const cases = (listed.data?.cases?.edges || []).map((e) => e.node);
  await refresh();
  drawFound();
  const watched = cases.slice(0, WATCHED_CASES).map((c) => ({ c: c.number }));
  if (watched.length) {
    stops.push(
      subscribeMany(FOUND, watched, {
        next: (payload) => {
          const e = payload.data?.assetDiscovered;
          if (!e) return;
          found.unshift(e);
          found.splice(50);
          drawFound();
        },
      }),
    );
  }
  const timer = setInterval(refresh, REFRESH_MS);
  return () => {
    clearInterval(timer);
    stops.forEach((stop) => stop());
  };
}
