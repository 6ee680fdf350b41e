// The judge's approvals inbox, court-wide: approve (never one's own request: four eyes),
// reject with a reason, or override an over-seizure refusal with a written reason.
import { claims, gql } from "../api.js";
import { ACTION, AGENCY, caseHref, errorList, h, link, money, render, table, time } from "../ui.js";
import { timeline } from "../timeline.js";

const QUERY = `query Inbox($after: String) {
  approvalInbox(first: 20, after: $after) {
    edges { node { id caseNumber agency action target targetValue amount documentNumber requestedBy createdAt overrideReason } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const APPROVE = `mutation Approve($id: ID!, $reason: String) {
  approveAssistance(id: $id, overrideReason: $reason) { id status approvedBy }
}`;
const REJECT = `mutation Reject($id: ID!, $reason: String!) { rejectAssistance(id: $id, reason: $reason) { id status } }`;

export async function show(main) {
  const me = claims()?.sub;
  const list = h("div", { id: "inbox-list" });
  const detail = h("div", { id: "inbox-detail" });
  let stopPanel = null;

  async function open(request) {
    if (stopPanel) stopPanel();
    const panel = await timeline(request.id);
    stopPanel = panel.stop;
    const reason = h("textarea", { id: "decision-reason", rows: 2, cols: 50 });
    const message = h("div", { id: "decision-message", role: "status" });
    const own = request.requestedBy === me;
    const approve = h("button", { type: "button", id: "approve", disabled: own }, "批准");
    const override = h("button", { type: "button", id: "override", class: "danger", hidden: true }, "说明理由并批准（超标的）");
    const reject = h("button", { type: "button", id: "reject", class: "secondary" }, "驳回");

    async function decide(query, variables) {
      const { data, errors } = await gql(query, variables);
      const code = errors?.[0]?.extensions?.code;
      if (code === "OVER_SEIZURE") {
        override.hidden = false;
        render(message, errorList(errors), h("p", {}, "已控制财产足以清偿：如仍需批准，请在上方写明理由后点“说明理由并批准”。"));
        return;
      }
      render(message, errorList(errors), data ? h("p", { class: "ok" }, "已处理。") : null);
      if (data) {
        approve.disabled = reject.disabled = true;
        override.hidden = true;
        refresh();
      }
    }
    approve.addEventListener("click", () => decide(APPROVE, { id: request.id, reason: null }));
    override.addEventListener("click", () => {
      if (!reason.value.trim()) {
        render(message, h("p", { class: "bad" }, "超标的查封须写明理由。"));
        return;
      }
      decide(APPROVE, { id: request.id, reason: reason.value.trim() });
    });
    reject.addEventListener("click", () => {
      if (!reason.value.trim()) {
        render(message, h("p", { class: "bad" }, "驳回须写明理由。"));
        return;
      }
      decide(REJECT, { id: request.id, reason: reason.value.trim() });
    });
    render(
      detail,
      h(
        "section",
        { class: "card", "aria-labelledby": "decision-heading" },
        h("h2", { id: "decision-heading" }, `审批：${ACTION[request.action] || request.action}（${request.documentNumber}）`),
        own ? h("p", { class: "warn" }, "这是您本人提出的请求：须由另一位法官审批。") : null,
        h("label", { for: "decision-reason" }, "理由（驳回或超标的批准时必填）"),
        reason,
        h("div", { class: "row" }, approve, override, reject),
        message,
      ),
      panel.element,
    );
  }

  async function refresh(after = null) {
    const { data, errors } = await gql(QUERY, { after });
    const edges = data?.approvalInbox?.edges || [];
    render(
      list,
      errorList(errors),
      edges.length
        ? table(
            ["案号", "事项", "协助单位", "标的物", "价值", "申请人", "提出时间", ""],
            edges.map(({ node }) =>
              h(
                "tr",
                {},
                h("td", {}, link(caseHref(node.caseNumber), node.caseNumber)),
                h("td", {}, ACTION[node.action] || node.action),
                h("td", {}, AGENCY[node.agency] || node.agency),
                h("td", {}, node.target || "—"),
                h("td", {}, money(node.targetValue ?? node.amount)),
                h("td", {}, node.requestedBy),
                h("td", {}, time(node.createdAt)),
                h("td", {}, h("button", { type: "button", class: "secondary", "data-open": node.id, onclick: () => open(node) }, "审查")),
              ),
            ),
            { id: "inbox" },
          )
        : data
          ? h("p", {}, "没有待审批的请求。")
          : null,
    );
  }

  render(main, h("h1", {}, "待审批"), list, detail);
  await refresh();
  return () => {
    if (stopPanel) stopPanel();
  };
}
