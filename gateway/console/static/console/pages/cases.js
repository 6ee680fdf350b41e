// The caller's cases, searched by case number, party (applicant) name or status.
import { gql } from "../api.js";
import { caseHref, errorList, h, link, money, render, table } from "../ui.js";

const QUERY = `query Cases($filter: CaseFilter, $after: String) {
  cases(filter: $filter, first: 20, after: $after) {
    edges { cursor node { number court applicant amountDue status filedOn } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const CASE_STATUS = { ACTIVE: "执行中", DORMANT: "终本", FULLY_PERFORMED: "执行完毕", TERMINATED: "终结" };

export async function show(main) {
  const number = h("input", { id: "f-number", name: "number", placeholder: "如（2024）苏0312执1234号" });
  const applicant = h("input", { id: "f-applicant", name: "applicant", placeholder: "申请执行人姓名或名称" });
  const statusSel = h(
    "select",
    { id: "f-status", name: "status" },
    h("option", { value: "" }, "全部"),
    Object.entries(CASE_STATUS).map(([v, t]) => h("option", { value: v }, t)),
  );
  const results = h("div", { id: "case-results", "aria-live": "polite" });
  const cursors = [null];

  async function load(after) {
    const filter = {};
    if (number.value.trim()) filter.number = number.value.trim();
    if (applicant.value.trim()) filter.applicant = applicant.value.trim();
    if (statusSel.value) filter.statuses = [statusSel.value];
    const { data, errors } = await gql(QUERY, { filter, after });
    const page = data?.cases;
    const rows = (page?.edges || []).map(({ node }) =>
      h(
        "tr",
        {},
        h("td", {}, link(caseHref(node.number), node.number)),
        h("td", {}, node.applicant),
        h("td", {}, money(node.amountDue)),
        h("td", {}, CASE_STATUS[node.status] || node.status),
        h("td", {}, node.filedOn || "—"),
      ),
    );
    render(
      results,
      errorList(errors),
      page && rows.length === 0 ? h("p", {}, "没有符合条件的案件。") : null,
      rows.length ? table(["案号", "申请执行人", "执行标的", "状态", "立案日期"], rows) : null,
      page?.pageInfo.hasNextPage
        ? h(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: () => {
                cursors.push(page.pageInfo.endCursor);
                load(page.pageInfo.endCursor);
              },
            },
            "下一页",
          )
        : null,
    );
  }

  const form = h(
    "form",
    {
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        load(null);
      },
    },
    h(
      "div",
      { class: "row" },
      h("div", {}, h("label", { for: "f-number" }, "案号"), number),
      h("div", {}, h("label", { for: "f-applicant" }, "当事人"), applicant),
      h("div", {}, h("label", { for: "f-status" }, "状态"), statusSel),
      h("button", { type: "submit" }, "查询"),
    ),
  );
  render(main, h("h1", {}, "我的案件"), h("section", { class: "card" }, form), results);
  await load(null);
}
