// Small DOM helpers and the Chinese names of the API's enums.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function render(target, ...children) {
  target.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
}

export const AGENCY = {
  PUBLIC_SECURITY: "公安",
  CIVIL_AFFAIRS: "民政",
  LAND_REGISTRY: "不动产登记",
  MARKET_REGULATION: "市场监管",
};

export const STATUS = {
  PENDING_APPROVAL: "待审批",
  APPROVED: "已批准",
  SUBMITTED: "已送达",
  COMPLETED: "已办结",
  QUEUED: "轮候",
  REJECTED: "已驳回",
  FAILED: "失败",
  CANCELLED: "已撤回",
};

export const ACTION = {
  SEIZE_REAL_ESTATE: "查封不动产",
  LIFT_REAL_ESTATE_SEIZURE: "解封不动产",
  FREEZE_EQUITY: "冻结股权",
  UNFREEZE_EQUITY: "解冻股权",
  SEIZE_VEHICLE: "查封车辆",
  LIFT_VEHICLE_SEIZURE: "解封车辆",
  EXIT_BAN: "限制出境",
  LIFT_EXIT_BAN: "解除限制出境",
};

export const EVENT = {
  REQUESTED: "提出申请",
  APPROVED: "批准",
  REJECTED: "驳回",
  CANCELLED: "撤回",
  SUBMITTED: "送达协助单位",
  TICKET: "协助单位受理",
  RETRY: "重试",
  COMPLETED: "办结",
  QUEUED: "轮候",
  AGENCY_REJECTED: "协助单位拒绝",
  FAILED: "失败",
  RESENT: "重新发送",
  OVERDUE: "逾期",
  LIFTED: "解除",
};

export const RESTRICTION = {
  EXIT_BAN: "限制出境",
  HIGH_CONSUMPTION_BAN: "限制高消费",
  DISHONEST_LIST: "失信名单",
};

export const CIRCUIT = { CLOSED: "闭合（正常）", OPEN: "断开", HALF_OPEN: "半开（试探）" };
export const HEALTH = { UNKNOWN: "未知", UP: "正常", DEGRADED: "降级", DOWN: "中断" };

export function status(value) {
  return h("span", { class: `status-${value}`, "data-status": value }, STATUS[value] || value);
}

// A court's calendar runs on China Standard Time, whatever zone the browser is set to: from
// 16:00 to 24:00 UTC the court is already on the next day, and the gateway refuses a control
// that starts on the day before its own.
export const COURT_ZONE = "Asia/Shanghai";

// The court's calendar date at `now`, as YYYY-MM-DD (en-CA formats dates that way).
export function courtToday(now = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: COURT_ZONE }).format(now);
}

export function time(value) {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime())
    ? value
    : d.toLocaleString("zh-CN", { hour12: false, timeZone: COURT_ZONE });
}

export function money(value) {
  return value === null || value === undefined ? "—" : `¥${value}`;
}

// Where a fact came from and how fresh it is.
export function provenance(p) {
  if (!p) return h("span", { class: "prov" }, "法院记录");
  return h(
    "span",
    { class: "prov" },
    `来源：${AGENCY[p.agency] || p.agency} · 取得于 ${time(p.fetchedAt)} `,
    p.cached ? h("span", { class: "tag" }, "缓存") : h("span", { class: "tag" }, "实时"),
    p.stale ? h("span", { class: "tag stale" }, " 过期") : null,
  );
}

export function errorList(errors) {
  if (!errors || errors.length === 0) return null;
  return h(
    "div",
    { class: "banner", role: "alert" },
    errors.map((e) => h("div", {}, `${e.message}${e.extensions?.code ? `（${e.extensions.code}）` : ""}`)),
  );
}

export function table(headers, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows),
  );
}

export function link(href, text) {
  return h("a", { href }, text);
}

export function caseHref(number) {
  return `#/case/${encodeURIComponent(number)}`;
}

export function debtorHref(number, handle) {
  return `#/debtor/${encodeURIComponent(number)}/${encodeURIComponent(handle)}`;
}

export function requestHref(id) {
  return `#/request/${encodeURIComponent(id)}`;
}

// Closed sets of the agencies' facts, in Chinese; an unknown value is shown as it came.
export const VALUE = {
  MALE: "男",
  FEMALE: "女",
  MARRIED: "已婚",
  DIVORCED: "离婚",
  WIDOWED: "丧偶",
  SINGLE: "未婚",
  NORMAL: "正常",
  DECEASED: "死亡",
  EMIGRATED: "迁出",
  SEIZED: "已查封",
  SCRAPPED: "已报废",
  LEGAL_REPRESENTATIVE: "法定代表人",
  SHAREHOLDER: "股东",
  EXECUTIVE: "高级管理人员",
  ACTIVE: "有效",
  LIFTED: "已解除",
  REVOKED: "吊销",
  DEREGISTERED: "注销",
};

export function label(value) {
  return value === null || value === undefined ? "—" : VALUE[value] || value;
}

// A share ratio (0..1) as a percentage.
export function ratio(value) {
  return value === null || value === undefined ? "—" : `${(Number(value) * 100).toFixed(2)}%`;
}
