// Sign-in: paste a token, or in the demo pick a demo user. The token stays in this tab.
import { config, signIn } from "../api.js";
import { h, render } from "../ui.js";

const ROLE_NAMES = { officer: "执行员", judge: "执行法官", auditor: "审计员", agency: "联合惩戒单位" };

function enter(value) {
  signIn(value);
  // The home page depends on the token's roles: let the router pick it.
  location.hash = "#/home";
}

export async function show(main) {
  const area = h("textarea", { id: "token", rows: 4, cols: 60, "aria-describedby": "token-help" });
  const message = h("p", { class: "error", role: "status" });
  const form = h(
    "form",
    {
      onsubmit: (event) => {
        event.preventDefault();
        if (area.value.trim().split(".").length !== 3) {
          message.textContent = "这不是一个令牌（应为三段，以点分隔）。";
          return;
        }
        enter(area.value);
      },
    },
    h("label", { for: "token" }, "访问令牌"),
    area,
    h("p", { id: "token-help", class: "muted" }, "令牌只保存在本标签页的会话存储中，关闭标签页即清除。"),
    h("button", { type: "submit" }, "登录"),
    message,
  );
  const demo = config.demoUsers || [];
  render(
    main,
    h("h1", {}, "登录"),
    h("section", { class: "card" }, form),
    demo.length
      ? h(
          "section",
          { class: "card", "aria-labelledby": "demo-heading" },
          h("h2", { id: "demo-heading" }, "演示用户"),
          h("p", { class: "muted" }, "仅演示环境提供：令牌由本网关签发。"),
          h(
            "div",
            { class: "row" },
            demo.map((user) =>
              h(
                "button",
                { type: "button", class: "secondary", "data-role": user.role, onclick: () => enter(user.token) },
                `${ROLE_NAMES[user.role] || user.role}：${user.name}`,
              ),
            ),
          ),
        )
      : null,
  );
}
