// The request timeline page.
import { h, render } from "../ui.js";
import { timeline } from "../timeline.js";

export async function show(main, [id]) {
  const panel = await timeline(id);
  render(main, h("h1", {}, "协助执行进度"), panel.element);
  return panel.stop;
}
