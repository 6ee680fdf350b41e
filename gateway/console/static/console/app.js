// The console's router: one page per hash route, each page a module with show().
import { claims, hasRole, signOut, token } from "./api.js";
import { h, render } from "./ui.js";
import * as agency from "./pages/agency.js";
import * as audit from "./pages/audit.js";
import * as caseList from "./pages/cases.js";
import * as casePage from "./pages/case.js";
import * as command from "./pages/command.js";
import * as debtor from "./pages/debtor.js";
import * as inbox from "./pages/inbox.js";
import * as request from "./pages/request.js";
import * as signin from "./pages/signin.js";

const ROUTES = {
  signin: signin.show,
  cases: caseList.show,
  case: casePage.show,
  debtor: debtor.show,
  inbox: inbox.show,
  request: request.show,
  command: command.show,
  audit: audit.show,
  agency: agency.show,
};

// Which menu entries a role sees; the gateway decides what each may read.
const MENU = [
  ["cases", "案件", ["officer", "judge"]],
  ["inbox", "审批", ["judge", "bureau_head", "president"]],
  ["command", "指挥中心", ["officer", "judge", "auditor", "admin", "court_system"]],
  ["audit", "审计", ["auditor"]],
];

export function homeRoute() {
  if (hasRole("judge")) return "#/inbox";
  if (hasRole("officer")) return "#/cases";
  if (hasRole("auditor")) return "#/audit";
  if (hasRole("agency")) return "#/agency";
  return "#/command";
}

let cleanup = null;

function renderChrome(current) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  const c = claims();
  if (!c) {
    render(nav);
    render(who);
    return;
  }
  render(
    nav,
    MENU.filter(([, , roles]) => hasRole(...roles)).map(([route, label]) =>
      h("a", { href: `#/${route}`, "aria-current": route === current ? "page" : null }, label),
    ),
  );
  render(
    who,
    h("span", {}, `${c.name || c.sub}（${(c.roles || []).join("、")}）· ${c.court || ""}`),
    h(
      "button",
      {
        type: "button",
        onclick: () => {
          signOut();
          location.hash = "#/signin";
        },
      },
      "退出",
    ),
  );
}

async function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  let name = parts[0] || "";
  if (!token() && name !== "signin") {
    location.hash = "#/signin";
    return;
  }
  if (!ROUTES[name]) {
    location.hash = token() ? homeRoute() : "#/signin";
    return;
  }
  renderChrome(name);
  const main = document.getElementById("main");
  render(main, h("p", { class: "muted" }, "正在加载…"));
  document.body.dataset.page = name;
  try {
    cleanup = (await ROUTES[name](main, parts.slice(1))) || null;
  } catch (err) {
    render(main, h("div", { class: "banner", role: "alert" }, `页面出错：${err.message}`));
  }
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
}

window.addEventListener("hashchange", route);
route();
