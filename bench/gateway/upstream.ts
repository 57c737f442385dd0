/** Bench child process: the demo upstream API on a free port; prints its URL. */
import { startDemoApi } from "../../scripts/demo/demo-api.js";

const { url } = await startDemoApi(0);
console.log(`upstream ${url}`);
