// One case: parties, amount due, value under control (over-seizure headroom), requests, restrictions.
import { gql, nodes } from "../api.js";
import { PAGE_SIZE, growingTable, loadMore, nextPage } from "../more.js";
import {
  ACTION,
  AGENCY,
  RESTRICTION,
  debtorHref,
  errorList,
  h,
  link,
  money,
  render,
  requestHref,
  status,
  table,
  time,
} from "../ui.js";

const RESTRICTIONS = `restrictions(first: $first, after: $after) {
  edges { node { id kind caseNumber court since until status } } pageInfo { hasNextPage endCursor } }`;
const REQUESTS = `assistanceRequests(first: $first, after: $after) {
  edges { node { id action agency status target targetValue createdAt overdue } }
  pageInfo { hasNextPage endCursor } }`;

const QUERY = `query CasePage($n: String!, $first: Int!, $after: String) {
  case(number: $n) {
    number court applicant amountDue controlledValue status filedOn
    debtors {
      handle maskedId kind
      identity { name }
      organization { name }
      ${RESTRICTIONS}
    }
    ${REQUESTS}
  }
}`;
// The pages after the first, by the cursor of the last one shown.
const MORE_REQUESTS = `query CaseRequests($n: String!, $first: Int!, $after: String) {
  case(number: $n) { ${REQUESTS} } }`;
const MORE_RESTRICTIONS = `query DebtorRestrictions($c: String!, $id: ID!, $first: Int!, $after: String) {
  debtor(id: $id, caseNumber: $c) { ${RESTRICTIONS} } }`;

// Money is a decimal string with two places: compare in fen, never in floats.
function fen(value) {
  const negative = String(value).startsWith("-");
  const [whole, frac = ""] = String(value).replace("-", "").split(".");
  const amount = BigInt(whole) * 100n + BigInt((frac + "00").slice(0, 2));
  return negative ? -amount : amount;
}

function yuan(f) {
  const sign = f < 0n ? "-" : "";
  const abs = f < 0n ? -f : f;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}

export async function show(main, [number]) {
  const { data, errors } = await gql(QUERY, { n: number, first: PAGE_SIZE, after: null });
  const c = data?.case;
  if (!c) {
    render(main, h("h1", {}, `案件 ${number}`), errorList(errors) || h("p", {}, "没有这个案件，或您无权查看。"));
    return;
  }
  const headroom = fen(c.amountDue) - fen(c.controlledValue);
  const debtorRows = c.debtors.map((d) =>
    h(
      "tr",
      {},
      h("td", {}, link(debtorHref(c.number, d.handle), d.identity?.name || d.organization?.name || "（名称暂缺）")),
      h("td", {}, d.kind === "PERSON" ? "自然人" : "单位"),
      h("td", {}, d.maskedId),
    ),
  );
  const nameOf = (d) => d.identity?.name || d.organization?.name || "";
  const restrictionRows = (d, list) =>
    list
      .filter((r) => r.caseNumber === c.number)
      .map((r) =>
        h(
          "tr",
          {},
          h("td", {}, RESTRICTION[r.kind] || r.kind),
          h("td", {}, nameOf(d)),
          h("td", {}, r.since),
          h("td", {}, r.until || "—"),
          h("td", {}, r.status),
        ),
      );
  const requestRows = (list) =>
    list.map((r) =>
      h(
        "tr",
        {},
        h("td", {}, link(requestHref(r.id), ACTION[r.action] || r.action)),
        h("td", {}, AGENCY[r.agency] || r.agency),
        h("td", {}, r.target || "—"),
        h("td", {}, money(r.targetValue)),
        h("td", {}, status(r.status), r.overdue ? h("span", { class: "bad" }, " 逾期") : null),
        h("td", {}, time(r.createdAt)),
      ),
    );
  const requests = growingTable(
    ["事项", "协助单位", "标的物", "价值", "状态", "提出时间"],
    requestRows(nodes(c.assistanceRequests)),
    { attrs: { id: "case-requests" }, more: Boolean(c.assistanceRequests?.pageInfo.hasNextPage) },
  );
  const moreRequests = loadMore(
    c.assistanceRequests,
    (after) => nextPage(MORE_REQUESTS, { n: c.number }, ["case", "assistanceRequests"], after),
    (items) => requests.append(requestRows(items)),
    { id: "more-requests" },
  );
  // A debtor's restrictions are paged across all its cases: the rows of this case are kept.
  const longer = c.debtors.filter((d) => d.restrictions?.pageInfo.hasNextPage);
  const restrictions = growingTable(
    ["措施", "被执行人", "起", "止", "状态"],
    c.debtors.flatMap((d) => restrictionRows(d, nodes(d.restrictions))),
    { attrs: { id: "case-restrictions" }, more: longer.length > 0 },
  );
  const moreRestrictions = longer.map((d) =>
    loadMore(
      d.restrictions,
      (after) => nextPage(MORE_RESTRICTIONS, { c: c.number, id: d.handle }, ["debtor", "restrictions"], after),
      (items) => restrictions.append(restrictionRows(d, items)),
      { label: longer.length > 1 ? `加载更多（${nameOf(d)}）` : "加载更多" },
    ),
  );
  render(
    main,
    h("h1", {}, `案件 ${c.number}`),
    errorList(errors),
    h(
      "section",
      { class: "card grid" },
      h("div", {}, h("div", { class: "muted" }, "执行法院"), c.court),
      h("div", {}, h("div", { class: "muted" }, "申请执行人"), c.applicant),
      h("div", {}, h("div", { class: "muted" }, "执行标的"), money(c.amountDue)),
      h("div", {}, h("div", { class: "muted" }, "已控制财产价值"), money(c.controlledValue)),
      h(
        "div",
        { id: "headroom" },
        h("div", { class: "muted" }, "尚可控制（超标的查封余量）"),
        headroom > 0n ? money(yuan(headroom)) : h("span", { class: "bad" }, "已足额控制：再查封即超标的"),
      ),
    ),
    h("h2", {}, "被执行人"),
    table(["名称", "类型", "证件号"], debtorRows),
    h("h2", {}, "协助执行请求"),
    requests.el,
    moreRequests,
    h("h2", {}, "限制措施"),
    restrictions.el,
    moreRestrictions,
  );
}
