// One request's timeline, kept live over assistanceRequestUpdated: events arrive without a
// reload; a FAILED request can be sent again.
import { gql, subscribe } from "./api.js";
import { ACTION, AGENCY, EVENT, errorList, h, money, render, status, time } from "./ui.js";

const FIELDS = `id caseNumber agency action status target targetValue amount documentNumber
  requestedBy approvedBy overrideReason reason reply deadline overdue attempts
  events { seq at kind status actor note }`;

const QUERY = `query RequestTimeline($id: ID!) { assistanceRequest(id: $id) { ${FIELDS} } }`;
const LIVE = `subscription RequestUpdates($c: String!) {
  assistanceRequestUpdated(caseNumber: $c) {
    event { requestId seq at kind status actor note }
    request { id status overdue reply approvedBy }
  }
}`;
const RESEND = `mutation Resend($id: ID!) { resendAssistance(id: $id) { ${FIELDS} } }`;

// Returns {element, stop}; the element updates itself until stop() is called.
export async function timeline(id) {
  const element = h("section", { class: "card timeline-panel", "data-request": id, "aria-live": "polite" });
  const { data, errors } = await gql(QUERY, { id });
  const request = data?.assistanceRequest;
  if (!request) {
    render(element, errorList(errors) || h("p", {}, "没有这个请求，或您无权查看。"));
    return { element, stop: () => {} };
  }
  const events = new Map(request.events.map((e) => [e.seq, e]));
  let live = "正在连接…";
  let liveEvents = 0;
  let message = null;

  function draw() {
    element.dataset.status = request.status;
    element.dataset.liveEvents = String(liveEvents);
    render(
      element,
      h("h2", {}, `${ACTION[request.action] || request.action} · ${AGENCY[request.agency] || request.agency}`),
      h(
        "div",
        { class: "grid" },
        h("div", {}, "状态：", status(request.status), request.overdue ? h("span", { class: "bad" }, " 已逾期") : null),
        h("div", {}, `案号：${request.caseNumber}`),
        h("div", {}, `标的物：${request.target || "—"}（${money(request.targetValue)}）`),
        h("div", {}, `文号：${request.documentNumber}`),
        h("div", {}, `申请人：${request.requestedBy}　审批人：${request.approvedBy || "—"}`),
        h("div", {}, `期限：${time(request.deadline)}`),
        request.reply ? h("div", {}, `协助单位答复：${request.reply}`) : null,
        request.overrideReason ? h("div", {}, `超标的查封理由：${request.overrideReason}`) : null,
      ),
      h("p", { class: "live", "data-live": live === "实时更新中" ? "yes" : "no" }, live),
      h(
        "ol",
        { class: "timeline" },
        [...events.values()]
          .sort((a, b) => a.seq - b.seq)
          .map((e) => h("li", { "data-kind": e.kind }, `${time(e.at)} ${EVENT[e.kind] || e.kind} → `, status(e.status), ` （${e.actor}${e.note ? `：${e.note}` : ""}）`)),
      ),
      request.status === "FAILED"
        ? h(
            "button",
            {
              type: "button",
              onclick: async () => {
                const res = await gql(RESEND, { id });
                if (res.data?.resendAssistance) {
                  Object.assign(request, res.data.resendAssistance);
                  for (const e of res.data.resendAssistance.events) events.set(e.seq, e);
                  message = null;
                } else message = errorList(res.errors);
                draw();
              },
            },
            "重新发送",
          )
        : null,
      message,
    );
  }

  const stop = subscribe(
    LIVE,
    { c: request.caseNumber },
    {
      open: async () => {
        live = "实时更新中";
        draw();
        // Events between the first read and the subscription: read once more and merge.
        const again = (await gql(QUERY, { id })).data?.assistanceRequest;
        if (!again) return;
        const newest = Math.max(0, ...events.keys());
        for (const e of again.events) events.set(e.seq, e);
        if (Math.max(0, ...again.events.map((e) => e.seq)) >= newest) Object.assign(request, again);
        draw();
      },
      next: (payload) => {
        const update = payload.data?.assistanceRequestUpdated;
        if (!update || update.request.id !== id) return;
        liveEvents += 1;
        events.set(update.event.seq, update.event);
        Object.assign(request, update.request);
        draw();
      },
      error: (errs) => {
        live = `实时更新中断：${(errs || []).map((e) => e.message).join("；")}`;
        draw();
      },
    },
  );
  draw();
  return { element, stop };
}
