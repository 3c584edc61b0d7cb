import { run } from '../container/main.js';

await run();
