// The joint-punishment agency's landing page: the console has no data for this role; the
// agency screens people through the screening endpoint, not through court pages.
import { claims } from "../api.js";
import { h, render } from "../ui.js";

export async function show(main) {
  const c = claims();
  render(
    main,
    h("h1", {}, "联合惩戒单位"),
    h(
      "section",
      { class: "card" },
      h("p", {}, `${c?.name || c?.sub || ""}：您已登录。`),
      h("p", {}, "本控制台的案件、被执行人与审批页面仅供法院人员使用；失信名单与限制消费筛查请通过本网关的筛查接口（/v1/screen）进行。"),
    ),
  );
}
