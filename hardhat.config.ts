import { createRequire } from "node:module";
import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatEthersChaiMatchers from "@nomicfoundation/hardhat-ethers-chai-matchers";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatTypechain from "@nomicfoundation/hardhat-typechain";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

// solc-js from npm: Hardhat's own compiler download needs the internet, which CI lacks.
const SOLC_VERSION = "0.8.28";

export default defineConfig({
  plugins: [hardhatEthers, hardhatEthersChaiMatchers, hardhatMocha, hardhatNetworkHelpers, hardhatTypechain],
  solidity: {
    version: SOLC_VERSION,
    path: require.resolve("solc/soljson.js"),
    // Emit artifacts (and TypeChain types) for library contracts the deploy uses directly.
    npmFilesToBuild: [
      "@openzeppelin/contracts/access/manager/AccessManager.sol",
      "@openzeppelin/contracts/governance/TimelockController.sol",
      // Linked by AccessGroups (LeanIMT nodes and identity commitments).
      "poseidon-solidity/PoseidonT2.sol",
      "poseidon-solidity/PoseidonT3.sol",
    ],
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 200 },
    },
  },
  paths: {
    tests: { mocha: "test/mocha", solidity: "test/solidity" },
  },
  networks: {
    localhost: {
      type: "http",
      chainType: "l1",
      url: configVariable("MESHGATE_RPC_URL", { default: "http://127.0.0.1:8545" }),
    },
    // Any chain: MESHGATE_RPC_URL=https://... MESHGATE_DEPLOYER_KEY=0x... npm run deploy -- --network remote
    remote: {
      type: "http",
      chainType: "l1",
      url: configVariable("MESHGATE_RPC_URL"),
      accounts: [configVariable("MESHGATE_DEPLOYER_KEY")],
    },
  },
});
