// The auditor's page: search the audit log by case, officer, request or outcome. It shows who
// did what and the chain hashes, never debtor data (no debtors, no variables).
import { gql } from "../api.js";
import { errorList, h, render, table, time } from "../ui.js";

const QUERY = `query AuditSearch($filter: AuditFilter, $after: String) {
  auditRecords(filter: $filter, first: 50, after: $after) {
    edges { node { seq time requestId officer court caseNumber operation outcome code hash } }
    pageInfo { hasNextPage endCursor }
  }
}`;
// The log checked when the page opens (auditVerification walks every record: once per
// visit, or when asked again), and the newest signed tree heads (auditHeads).
const VERIFY = `query AuditVerification { auditVerification { verifiedAt ok records
  chains { chain size checked headHash } firstBreak { chain seq reason } } }`;
const HEADS = `query AuditHeads { auditHeads { chain size root time keyId } }`;
const OUTCOME = { OK: "成功", PARTIAL: "部分成功", REFUSED: "拒绝", ERROR: "错误" };

export async function show(main) {
  const caseNumber = h("input", { id: "a-case", name: "caseNumber" });
  const officer = h("input", { id: "a-officer", name: "officer" });
  const requestId = h("input", { id: "a-request", name: "requestId" });
  const outcome = h("select", { id: "a-outcome", name: "outcome" }, h("option", { value: "" }, "全部"), Object.entries(OUTCOME).map(([v, t]) => h("option", { value: v }, t)));
  const results = h("div", { id: "audit-results", "aria-live": "polite" });

  const verify = h("section", { class: "card", id: "verify" }, h("h2", {}, "日志核验与签名树头"));

  function verifyStatus(v, errors) {
    if (!v) return errorList(errors);
    const broken = v.firstBreak;
    return h(
      "div",
      {},
      h(
        "p",
        { id: "verify-status", "data-ok": v.ok ? "yes" : "no", class: v.ok ? "ok" : "bad", role: v.ok ? null : "alert" },
        v.ok
          ? `日志完整：${v.records} 条记录全部核验无误（${time(v.verifiedAt)}）。`
          : `日志被改动：审计链 ${broken.chain ?? "?"} 第 ${broken.seq} 条 —— ${broken.reason}（${time(v.verifiedAt)}）。`,
      ),
      table(
        ["审计链", "记录数", "核验无误", "末条哈希"],
        v.chains.map((c) => h("tr", { "data-chain": c.chain }, h("td", {}, c.chain), h("td", {}, c.size), h("td", { class: c.checked === c.size ? "" : "bad" }, c.checked), h("td", {}, h("code", { title: c.headHash }, c.headHash.slice(0, 16))))),
        { id: "chains" },
      ),
    );
  }

  function headsTable(heads, errors) {
    if (!heads) return errorList(errors);
    return heads.length
      ? table(
          ["审计链", "记录数", "默克尔根", "签名时间", "密钥"],
          heads.map((x) => h("tr", {}, h("td", {}, x.chain), h("td", {}, x.size), h("td", {}, h("code", { title: x.root }, x.root.slice(0, 16))), h("td", {}, time(x.time)), h("td", {}, x.keyId))),
          { id: "heads" },
        )
      : h("p", {}, "尚无签名树头。");
  }

  async function loadVerify() {
    render(verify, h("h2", {}, "日志核验与签名树头"), h("p", { class: "muted" }, "正在核验整个审计日志…"));
    const [checked, signed] = await Promise.all([gql(VERIFY), gql(HEADS)]);
    render(
      verify,
      h("h2", {}, "日志核验与签名树头"),
      verifyStatus(checked.data?.auditVerification, checked.errors),
      h("button", { type: "button", class: "secondary", onclick: () => loadVerify() }, "重新核验"),
      h("h3", {}, "最新签名树头"),
      headsTable(signed.data?.auditHeads, signed.errors),
      h("p", { class: "muted" }, "对照见证方核验签名树头，请运行 liandong audit verify --witness。"),
    );
  }

  async function load(after) {
    const filter = {};
    if (caseNumber.value.trim()) filter.caseNumber = caseNumber.value.trim();
    if (officer.value.trim()) filter.officer = officer.value.trim();
    if (requestId.value.trim()) filter.requestId = requestId.value.trim();
    if (outcome.value) filter.outcome = outcome.value;
    const { data, errors } = await gql(QUERY, { filter, after });
    const page = data?.auditRecords;
    const rows = (page?.edges || []).map(({ node: r }) =>
      h(
        "tr",
        { "data-operation": r.operation },
        h("td", {}, r.seq),
        h("td", {}, time(r.time)),
        h("td", {}, r.officer),
        h("td", {}, r.operation || "（未命名操作）"),
        h("td", {}, r.caseNumber || "—"),
        h("td", { class: r.outcome === "OK" ? "ok" : "bad" }, OUTCOME[r.outcome] || r.outcome, r.code ? `（${r.code}）` : ""),
        h("td", {}, h("code", { title: r.hash }, r.hash.slice(0, 12))),
      ),
    );
    render(
      results,
      errorList(errors),
      page && rows.length === 0 ? h("p", {}, "没有符合条件的记录。") : null,
      rows.length ? table(["序号", "时间", "人员", "操作", "案号", "结果", "哈希"], rows, { id: "audit" }) : null,
      page?.pageInfo.hasNextPage ? h("button", { type: "button", class: "secondary", onclick: () => load(page.pageInfo.endCursor) }, "下一页") : null,
    );
  }

  render(
    main,
    h("h1", {}, "审计日志"),
    h(
      "section",
      { class: "card" },
      h(
        "form",
        { role: "search", onsubmit: (e) => { e.preventDefault(); load(null); } },
        h(
          "div",
          { class: "row" },
          h("div", {}, h("label", { for: "a-case" }, "案号"), caseNumber),
          h("div", {}, h("label", { for: "a-officer" }, "人员"), officer),
          h("div", {}, h("label", { for: "a-request" }, "请求编号"), requestId),
          h("div", {}, h("label", { for: "a-outcome" }, "结果"), outcome),
          h("button", { type: "submit" }, "查询"),
        ),
      ),
    ),
    verify,
    results,
  );
  await Promise.all([load(null), loadVerify()]);
}
