// The debtor profile: every fact with its agency and freshness; a failed agency is named in
// a banner while the others' facts stay. From here an officer files a control request.
import { gql, hasRole, nodes } from "../api.js";
import { PAGE_SIZE, growingTable, loadMore, nextPage } from "../more.js";
import {
  AGENCY,
  RESTRICTION,
  caseHref,
  courtToday,
  errorList,
  h,
  link,
  money,
  provenance,
  render,
  requestHref,
  status,
  ACTION,
  label,
  ratio,
  table,
} from "../ui.js";

const P = "provenance { agency fetchedAt cached stale }";
const RESTRICTIONS = `restrictions(first: $first, after: $after) {
  edges { node { id kind caseNumber court since until status ground ${P} } } pageInfo { hasNextPage endCursor } }`;
const REQUESTS = `assistanceRequests(first: $first, after: $after) {
  edges { node { id action status target createdAt } } pageInfo { hasNextPage endCursor } }`;
// The pages after the first, by the cursor of the last one shown.
const MORE = (list) => `query DebtorMore($c: String!, $id: ID!, $first: Int!, $after: String) {
  debtor(id: $id, caseNumber: $c) { ${list} } }`;
const QUERY = `query DebtorProfile($c: String!, $id: ID!, $first: Int!, $after: String) {
  debtor(id: $id, caseNumber: $c) {
    handle maskedId kind caseNumber
    identity { idNumber name sex birthDate address status ${P} }
    organization { code name status legalRepresentative address ${P} }
    marriage { status registeredOn office spouseName ${P} spouse { maskedId identity { name } } }
    companies { company { code name status } role shareRatio ${P} }
    assets {
      __typename id kind estimatedValue ${P}
      controls { court caseNumber kind since until queuePosition }
      ... on RealEstate { certificateNumber address areaSqm use coOwners mortgages { creditor amount } }
      ... on Vehicle { plateNumber vin model status }
      ... on EquityStake { company { code name } shareRatio subscribedCapital }
    }
    ${RESTRICTIONS}
    ${REQUESTS}
  }
}`;

const FILE = `mutation FileControl($input: AssistanceRequestInput!) {
  requestAssistance(input: $input) { replayed request { id status action target } }
}`;

const CONTROL_KIND = { SEIZURE: "查封", QUEUED_SEIZURE: "轮候查封", FREEZE: "冻结" };

// The longest legal term of each control (查扣冻规定 art. 29), in years; exit bans have none.
const TERMS = {
  SEIZE_REAL_ESTATE: { years: 3, kind: "REAL_ESTATE", what: "不动产查封" },
  SEIZE_VEHICLE: { years: 2, kind: "VEHICLE", what: "动产（车辆）查封" },
  FREEZE_EQUITY: { years: 3, kind: "EQUITY", what: "股权等财产权冻结" },
  EXIT_BAN: { years: null, kind: null, what: "限制出境" },
};

function addYears(day, years) {
  const d = new Date(`${day}T00:00:00Z`);
  const target = new Date(Date.UTC(d.getUTCFullYear() + years, d.getUTCMonth(), d.getUTCDate()));
  if (target.getUTCMonth() !== d.getUTCMonth()) target.setUTCDate(0); // 29 Feb -> 28 Feb
  return target.toISOString().slice(0, 10);
}

// "" when the term is lawful, else why not; checked as the officer types.
export function termProblem(action, since, until) {
  const term = TERMS[action];
  if (!until || !term || term.years === null) return "";
  if (!/^\d{4}-\d{2}-\d{2}$/.test(until)) return "截止日期格式应为 YYYY-MM-DD";
  if (since && until <= since) return "截止日期须晚于起始日期";
  const latest = addYears(since, term.years);
  if (until > latest) return `${term.what}期限最长 ${term.years} 年：最迟至 ${latest}`;
  return "";
}

function agencyName(error) {
  const a = error.extensions?.agency;
  return a ? AGENCY[String(a).toUpperCase()] || a : null;
}

// One banner per failed agency, naming it and its error code.
function agencyBanners(errors) {
  const seen = new Map();
  for (const e of errors || []) {
    const name = agencyName(e);
    if (name && !seen.has(name)) seen.set(name, e.extensions?.code || "ERROR");
  }
  return [...seen].map(([name, code]) =>
    h("div", { class: "banner agency-failed", role: "alert", "data-code": code }, `${name} 暂时无法提供数据（${code}），以下为其他单位的数据。`),
  );
}

function fact(label, value) {
  return h("div", {}, h("span", { class: "muted" }, `${label}：`), value ?? "—");
}

function assetTable(title, assets, columns, id) {
  if (assets.length === 0) return [h("h2", {}, title), h("p", { class: "muted" }, "无登记。")];
  return [
    h("h2", {}, title),
    table(
      [...columns.map((c) => c[0]), "估值", "控制情况", "来源"],
      assets.map((a) =>
        h(
          "tr",
          {},
          columns.map((c) => h("td", {}, c[1](a))),
          h("td", {}, money(a.estimatedValue)),
          h(
            "td",
            {},
            a.controls.length
              ? a.controls.map((c) => h("div", {}, `${CONTROL_KIND[c.kind] || c.kind} · ${c.court} · ${c.caseNumber}`))
              : "无",
          ),
          h("td", {}, provenance(a.provenance)),
        ),
      ),
      { id },
    ),
  ];
}

function controlForm(debtor, assets, reload) {
  const today = courtToday();
  const action = h(
    "select",
    { id: "c-action", name: "action" },
    Object.keys(TERMS).map((a) => h("option", { value: a }, ACTION[a])),
  );
  const target = h("select", { id: "c-target", name: "target" });
  const doc = h("input", { id: "c-doc", name: "documentNumber", required: true, placeholder: "协助执行通知书文号" });
  const since = h("input", { id: "c-since", name: "since", type: "date", value: today });
  const until = h("input", { id: "c-until", name: "until", type: "date", "aria-describedby": "c-term" });
  const termMsg = h("div", { id: "c-term", class: "field-msg", role: "status" });
  // Judges only: the written reason that overrides the over-seizure guard (audited).
  const judge = hasRole("judge");
  const override = judge ? h("textarea", { id: "c-override", name: "overrideReason", rows: 2, cols: 60 }) : null;
  const submit = h("button", { type: "submit" }, "提交审批");
  const result = h("div", { id: "c-result", "aria-live": "polite" });

  function fillTargets() {
    const kind = TERMS[action.value].kind;
    const options = assets
      .filter((a) => a.kind === kind)
      .map((a) => {
        const value = a.certificateNumber || a.vin || a.company?.code;
        const label = a.certificateNumber ? `${a.certificateNumber} ${a.address}` : a.vin ? `${a.plateNumber} ${a.vin}` : `${a.company.name}`;
        return h("option", { value }, label);
      });
    render(target, kind ? options : h("option", { value: "" }, "（无需标的物）"));
    target.disabled = !kind;
    check();
  }

  function check() {
    const problem = termProblem(action.value, since.value, until.value);
    termMsg.textContent = problem || (until.value ? "期限合法。" : "不填截止日期：按法定最长期限。");
    termMsg.className = `field-msg ${problem ? "bad" : "ok"}`;
    submit.disabled = Boolean(problem);
  }

  action.addEventListener("change", fillTargets);
  until.addEventListener("input", check);
  since.addEventListener("input", check);
  fillTargets();

  const form = h(
    "form",
    {
      id: "control-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const input = { caseNumber: debtor.caseNumber, debtorId: debtor.handle, action: action.value, documentNumber: doc.value.trim() };
        if (!target.disabled && target.value) input.target = target.value;
        if (since.value) input.since = since.value;
        if (until.value) input.until = until.value;
        if (override && override.value.trim()) input.overrideReason = override.value.trim();
        submit.disabled = true;
        const { data, errors } = await gql(FILE, { input });
        submit.disabled = false;
        const req = data?.requestAssistance?.request;
        const guarded = errors?.some((e) => e.extensions?.code === "OVER_SEIZURE");
        render(
          result,
          errorList(errors),
          guarded
            ? h("p", { class: "warn", id: "c-guard" }, judge ? "如确需控制，请在“超标的查封理由”中写明理由后再提交。" : "超标的查封须由执行法官写明理由后提出。")
            : null,
          req
            ? h("div", { class: "notice" }, `已提交（${data.requestAssistance.replayed ? "此前已提交过" : "新请求"}），状态：`, status(req.status), " ", link(requestHref(req.id), "查看进度"))
            : null,
        );

      },
    },
    h(
      "div",
      { class: "row" },
      h("div", {}, h("label", { for: "c-action" }, "措施"), action),
      h("div", {}, h("label", { for: "c-target" }, "标的物"), target),
      h("div", {}, h("label", { for: "c-doc" }, "文号"), doc),
    ),
    h(
      "div",
      { class: "row" },
      h("div", {}, h("label", { for: "c-since" }, "起始日期"), since),
      h("div", {}, h("label", { for: "c-until" }, "截止日期"), until),
      submit,
    ),
    override ? [h("label", { for: "c-override" }, "超标的查封理由（法官填写，将记入审计）"), override] : null,
    termMsg,
    result,
  );
  return h("section", { class: "card", "aria-labelledby": "control-heading" }, h("h2", { id: "control-heading" }, "申请控制措施"), form);
}

export async function show(main, [caseNumber, handle]) {
  async function load() {
    const { data, errors } = await gql(QUERY, { c: caseNumber, id: handle, first: PAGE_SIZE, after: null });
    const d = data?.debtor;
    if (!d) {
      render(main, h("h1", {}, "被执行人"), errorList(errors) || h("p", {}, "查无此人，或您无权查看。"));
      return;
    }
    const others = (errors || []).filter((e) => !agencyName(e));
    const assets = d.assets || [];
    const idn = d.identity;
    const org = d.organization;
    const m = d.marriage;
    const name = idn?.name || org?.name || "（姓名暂缺）";
    const allRestrictions = nodes(d.restrictions);
    const requests = nodes(d.assistanceRequests);
    const exitBans = allRestrictions.filter((r) => r.kind === "EXIT_BAN");
    const restrictionRows = (list) =>
      list.map((r) =>
        h(
          "tr",
          {},
          h("td", {}, RESTRICTION[r.kind] || r.kind),
          h("td", {}, r.court),
          h("td", {}, r.caseNumber),
          h("td", {}, `${r.since} 至 ${r.until || "—"}`),
          h("td", {}, label(r.status)),
          h("td", {}, provenance(r.provenance)),
        ),
      );
    const restrictionHead = ["措施", "法院", "案号", "期间", "状态", "来源"];
    const more = (connection) => Boolean(connection?.pageInfo.hasNextPage);
    const exitBanTable = growingTable(restrictionHead, restrictionRows(exitBans), { empty: "无。", more: more(d.restrictions) });
    const restrictionTable = growingTable(restrictionHead, restrictionRows(allRestrictions), { attrs: { id: "restrictions" }, empty: "无。", more: more(d.restrictions) });
    const requestRows = (list) => list.map((r) => h("tr", {}, h("td", {}, link(requestHref(r.id), ACTION[r.action] || r.action)), h("td", {}, r.target || "—"), h("td", {}, status(r.status))));
    const requestTable = growingTable(["事项", "标的物", "状态"], requestRows(requests), { attrs: { id: "debtor-requests" }, more: more(d.assistanceRequests) });
    const following = (list, path) => (after) => nextPage(MORE(list), { c: caseNumber, id: handle }, ["debtor", path], after);
    const moreRestrictions = loadMore(d.restrictions, following(RESTRICTIONS, "restrictions"), (items) => {
      exitBanTable.append(restrictionRows(items.filter((r) => r.kind === "EXIT_BAN")));
      restrictionTable.append(restrictionRows(items));
    }, { id: "more-restrictions" });
    const moreRequests = loadMore(d.assistanceRequests, following(REQUESTS, "assistanceRequests"), (items) => requestTable.append(requestRows(items)), { id: "more-requests" });
    render(
      main,
      h("h1", {}, `被执行人 ${name}`),
      h("p", {}, "案件 ", link(caseHref(d.caseNumber), d.caseNumber)),
      agencyBanners(errors),
      errorList(others),
      h(
        "div",
        { class: "grid" },
        h(
          "section",
          { class: "card", id: "identity" },
          h("h2", {}, d.kind === "PERSON" ? "户籍身份" : "单位登记"),
          idn
            ? [fact("姓名", idn.name), fact("身份证号", idn.idNumber), fact("性别", label(idn.sex)), fact("出生日期", idn.birthDate), fact("户籍地址", idn.address), fact("户籍状态", label(idn.status)), provenance(idn.provenance)]
            : org
              ? [fact("名称", org.name), fact("统一社会信用代码", org.code), fact("法定代表人", org.legalRepresentative), fact("地址", org.address), fact("状态", label(org.status)), provenance(org.provenance)]
              : h("p", { class: "muted" }, `证件号 ${d.maskedId}：身份数据暂缺。`),
        ),
        h(
          "section",
          { class: "card", id: "marriage" },
          h("h2", {}, "婚姻与配偶"),
          m
            ? [fact("婚姻状况", label(m.status)), fact("登记日期", m.registeredOn), fact("登记机关", m.office), fact("配偶", m.spouseName), m.spouse ? fact("配偶证件号", m.spouse.maskedId) : null, provenance(m.provenance)]
            : h("p", { class: "muted" }, d.kind === "PERSON" ? "婚姻数据暂缺。" : "不适用。"),
        ),
      ),
      assetTable("不动产", assets.filter((a) => a.kind === "REAL_ESTATE"), [["不动产权证号", (a) => a.certificateNumber], ["坐落", (a) => a.address], ["面积（㎡）", (a) => a.areaSqm ?? "—"], ["抵押", (a) => a.mortgages.map((x) => `${x.creditor} ${money(x.amount)}`).join("；") || "无"]], "real-estate"),
      assetTable("车辆", assets.filter((a) => a.kind === "VEHICLE"), [["号牌", (a) => a.plateNumber], ["车辆识别代号", (a) => a.vin], ["型号", (a) => a.model ?? "—"], ["状态", (a) => label(a.status)]], "vehicles"),
      assetTable("股权", assets.filter((a) => a.kind === "EQUITY"), [["公司", (a) => a.company.name], ["持股比例", (a) => ratio(a.shareRatio)], ["认缴出资", (a) => money(a.subscribedCapital)]], "equity"),
      h("h2", {}, "任职与投资"),
      d.companies && d.companies.length
        ? table(["公司", "角色", "持股", "来源"], d.companies.map((r) => h("tr", {}, h("td", {}, r.company.name), h("td", {}, label(r.role)), h("td", {}, ratio(r.shareRatio)), h("td", {}, provenance(r.provenance)))), { id: "companies" })
        : h("p", { class: "muted" }, "无。"),
      h("h2", {}, "限制出境"),
      exitBanTable.el,
      h("h2", {}, "全部限制措施"),
      restrictionTable.el,
      moreRestrictions,
      h("h2", {}, "本案协助执行请求"),
      requestTable.el,
      moreRequests,
      hasRole("officer", "judge") ? controlForm(d, assets, load) : null,
    );
  }
  await load();
}
