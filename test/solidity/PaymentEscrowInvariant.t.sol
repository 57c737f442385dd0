// SPDX-License-Identifier: MIT
// Handler and test live together; test names follow the invariant_ convention.
// The handler keeps a full model of the escrow, hence its many state variables.
// solhint-disable one-contract-per-file, func-name-mixedcase, max-states-count
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ApiRegistry} from "../../contracts/registry/ApiRegistry.sol";
import {IApiRegistry} from "../../contracts/registry/IApiRegistry.sol";
import {INodeStaking} from "../../contracts/staking/INodeStaking.sol";
import {UsdPriceOracle} from "../../contracts/pricing/UsdPriceOracle.sol";
import {PaymentEscrow} from "../../contracts/escrow/PaymentEscrow.sol";
import {IPaymentEscrow} from "../../contracts/escrow/IPaymentEscrow.sol";
import {IEarningsLedger} from "../../contracts/escrow/IEarningsLedger.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {MockAggregatorV3} from "../../contracts/mocks/MockAggregatorV3.sol";
import {
    StakingTestBase,
    VM,
    REGION,
    NODE_URL,
    ROLE_PROTOCOL,
    AssertTrue,
    assertEq,
    assertTrue,
    bound
} from "./helpers/StakingTestBase.sol";

/// @dev The signing cheatcodes (Hardhat 3 / EDR implements Foundry's `vm`).
interface ISignVm {
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function addr(uint256 privateKey) external pure returns (address);
}

ISignVm constant SVM = ISignVm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

/// @dev secp256k1 group order.
uint256 constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

/// @dev The only fuzz target. It owns the payers' and hot keys' private keys, signs vouchers
///      with them, predicts every call's outcome from its own model of the escrow, and either
///      performs the call (which must succeed and match the model) or checks that it reverts
///      with exactly the predicted error. The campaign runs with fail-on-revert.
contract EscrowHandler {
    struct Chan {
        address payer;
        address node;
        uint256 apiId;
        address token;
        bytes32 id;
    }

    struct ChanModel {
        uint128 balance;
        uint128 redeemed;
        uint128 maxSigned; // ghost: highest cumulative amount ever signed by an authorized key
        uint256 paidOut; // ghost: sum of what redemptions took out (observed in earnings)
        uint256 deposited;
        uint256 withdrawn;
        uint128 wAmount;
        uint64 wEndsAt;
    }

    struct KeyModel {
        address payer;
        uint64 revokedAt;
    }

    /// @dev One signed voucher and what the model expects of it.
    struct Signed {
        uint256 chan;
        uint128 cumulative;
        address signer;
        bool wellFormed;
        bytes signature;
    }

    uint256 public constant NUM_PAYERS = 3;
    uint256 public constant NUM_HOT = 4;
    uint256 public constant MAX_DEPOSIT = 1e12;
    uint256 public constant MAX_BATCH = 5;
    uint16 internal constant BPS = 10_000;
    bytes32 internal constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address payer,address node,uint256 apiId,address token,uint128 cumulativeAmount)");
    bytes32 internal constant AUTH_TYPEHASH = keccak256("SignerAuthorization(address payer,uint256 deadline)");

    PaymentEscrow public immutable escrow;
    IERC20 public immutable usdc;
    IERC20 public immutable dai;
    address public immutable treasury;
    bytes32 public immutable domainSeparator;

    address[2] public nodes;
    uint256[2] public apis; // apis[0]: priced in USDC; apis[1]: priced in USD (USDC and DAI have feeds)
    address[2] public providers;

    uint256[] private _payerKeys;
    address[] public payers;
    uint256[] private _hotKeys;
    address[] public hot;
    uint256 private _strangerKey;
    address public stranger;

    Chan[] private _chans;
    mapping(uint256 chan => ChanModel) private _m;
    mapping(address signer => KeyModel) private _keys;

    IPaymentEscrow.RevenueSplit public split;
    uint64 public thaw;

    mapping(address token => mapping(address node => uint256)) public modelNode;
    mapping(address token => mapping(uint256 apiId => uint256)) public modelProvider;
    mapping(address token => mapping(uint256 apiId => uint256)) public modelProtocol;
    mapping(address token => uint256) public ghostDeposited;
    mapping(address token => uint256) public ghostWithdrawn;
    mapping(address token => uint256) public ghostClaimed;
    mapping(address token => uint256) public ghostDonated;

    /// @dev Successful / expected-revert calls per action, to see what a campaign exercised.
    mapping(bytes32 action => uint256) public okCalls;
    mapping(bytes32 action => uint256) public revertCalls;

    constructor(
        PaymentEscrow escrow_,
        IERC20 usdc_,
        IERC20 dai_,
        address[2] memory nodes_,
        uint256[2] memory apis_,
        address[2] memory providers_,
        address treasury_
    ) {
        (escrow, usdc, dai, nodes, apis, providers, treasury) = (
            escrow_,
            usdc_,
            dai_,
            nodes_,
            apis_,
            providers_,
            treasury_
        );
        domainSeparator = _separator(escrow_);
        (uint16 p, uint16 n, uint16 q) = escrow_.revenueSplit();
        split = IPaymentEscrow.RevenueSplit(p, n, q);
        thaw = escrow_.thawPeriod();

        _initPayers(escrow_, usdc_, dai_, nodes_, apis_);
        _initKeys(escrow_);
        MockERC20(address(usdc_)).mint(address(this), 1e30);
        MockERC20(address(dai_)).mint(address(this), 1e30);
    }

    /// @dev Payers with funds and approvals, and their channels: per node, the USDC-priced API
    ///      in USDC and the USD-priced API in USDC and in DAI.
    function _initPayers(
        PaymentEscrow escrow_,
        IERC20 usdc_,
        IERC20 dai_,
        address[2] memory nodes_,
        uint256[2] memory apis_
    ) private {
        for (uint256 i = 0; i < NUM_PAYERS; ++i) {
            uint256 key = _key("payer", i);
            address a = SVM.addr(key);
            _payerKeys.push(key);
            payers.push(a);
            MockERC20(address(usdc_)).mint(a, 1e30);
            MockERC20(address(dai_)).mint(a, 1e30);
            VM.prank(a);
            usdc_.approve(address(escrow_), type(uint256).max);
            VM.prank(a);
            dai_.approve(address(escrow_), type(uint256).max);
            for (uint256 j = 0; j < 2; ++j) {
                _pushChan(a, nodes_[j], apis_[0], address(usdc_));
                _pushChan(a, nodes_[j], apis_[1], address(usdc_));
                _pushChan(a, nodes_[j], apis_[1], address(dai_));
            }
        }
    }

    /// @dev Hot keys (0 and 1 start authorized for payers 0 and 1) and a stranger's key.
    function _initKeys(PaymentEscrow escrow_) private {
        for (uint256 i = 0; i < NUM_HOT; ++i) {
            uint256 key = _key("hot", i);
            _hotKeys.push(key);
            hot.push(SVM.addr(key));
        }
        _strangerKey = _key("stranger", 0);
        stranger = SVM.addr(_strangerKey);
        for (uint256 i = 0; i < 2; ++i) {
            uint256 deadline = block.timestamp + 1 hours;
            bytes memory proof = _authProofWith(_separator(escrow_), _hotKeys[i], payers[i], deadline);
            VM.prank(payers[i]);
            escrow_.authorizeSigner(hot[i], deadline, proof);
            _keys[hot[i]] = KeyModel(payers[i], 0);
        }
    }

    // ------------------------------------------------------------------ payer: funds

    function deposit(uint256 chanSeed, uint256 amount, bool wrongToken) external {
        _deposit(chanSeed % _chans.length, bound(amount, 0, MAX_DEPOSIT), wrongToken);
    }

    function startWithdraw(uint256 chanSeed, uint256 amount) external {
        uint256 c = _pickChan(chanSeed, PREFER_FUNDED);
        Chan memory ch = _chans[c];
        ChanModel storage m = _m[c];
        amount = bound(amount, 0, uint256(m.balance) + 1);

        bytes memory expected;
        if (amount == 0) {
            expected = abi.encodeWithSelector(IPaymentEscrow.ZeroAmount.selector);
        } else if (amount > m.balance) {
            expected = abi.encodeWithSelector(IPaymentEscrow.InsufficientBalance.selector, amount, m.balance);
        }
        VM.prank(ch.payer);
        try escrow.startWithdraw(ch.node, ch.apiId, ch.token, uint128(amount)) {
            assertTrue(expected.length == 0, "startWithdraw should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "startWithdraw");
            ++revertCalls["startWithdraw"];
            return;
        }
        m.wAmount = uint128(amount);
        m.wEndsAt = uint64(block.timestamp) + thaw;
        ++okCalls["startWithdraw"];
    }

    /// @dev Half of the calls first wait until the thaw ends, so withdrawals do happen.
    function finishWithdraw(uint256 chanSeed, bool waitForThaw) external {
        uint256 c = _pickChan(chanSeed, PREFER_WITHDRAWING);
        Chan memory ch = _chans[c];
        ChanModel storage m = _m[c];
        if (waitForThaw && m.wEndsAt > block.timestamp) VM.warp(m.wEndsAt);

        bytes memory expected;
        if (m.wEndsAt == 0) {
            expected = abi.encodeWithSelector(IPaymentEscrow.NoWithdrawal.selector, ch.id);
        } else if (block.timestamp < m.wEndsAt) {
            expected = abi.encodeWithSelector(IPaymentEscrow.StillThawing.selector, m.wEndsAt);
        }
        uint256 before = IERC20(ch.token).balanceOf(ch.payer);
        VM.prank(ch.payer);
        try escrow.finishWithdraw(ch.node, ch.apiId, ch.token) {
            assertTrue(expected.length == 0, "finishWithdraw should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "finishWithdraw");
            ++revertCalls["finishWithdraw"];
            return;
        }
        uint128 pay = m.wAmount < m.balance ? m.wAmount : m.balance;
        assertEq(IERC20(ch.token).balanceOf(ch.payer) - before, pay, "finishWithdraw: paid min(requested, balance)");
        m.balance -= pay;
        m.withdrawn += pay;
        (m.wAmount, m.wEndsAt) = (0, 0);
        ghostWithdrawn[ch.token] += pay;
        ++okCalls["finishWithdraw"];
    }

    function cancelWithdraw(uint256 chanSeed) external {
        uint256 c = _pickChan(chanSeed, PREFER_WITHDRAWING);
        Chan memory ch = _chans[c];
        ChanModel storage m = _m[c];
        bytes memory expected;
        if (m.wEndsAt == 0) expected = abi.encodeWithSelector(IPaymentEscrow.NoWithdrawal.selector, ch.id);
        VM.prank(ch.payer);
        try escrow.cancelWithdraw(ch.node, ch.apiId, ch.token) {
            assertTrue(expected.length == 0, "cancelWithdraw should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "cancelWithdraw");
            ++revertCalls["cancelWithdraw"];
            return;
        }
        (m.wAmount, m.wEndsAt) = (0, 0);
        ++okCalls["cancelWithdraw"];
    }

    // ------------------------------------------------------------------ payer: signer keys

    function authorizeSigner(uint256 payerSeed, uint256 keySeed, uint256 proofSeed) external {
        uint256 p = payerSeed % NUM_PAYERS;
        uint256 k = keySeed % NUM_HOT;
        // 3/4 of the time a key that is free (never authorized, or its revocation took effect).
        if (_h(keySeed, "free key") % 4 != 0) {
            for (uint256 i = 0; i < NUM_HOT; ++i) {
                uint256 j = (k + i) % NUM_HOT;
                KeyModel memory f = _keys[hot[j]];
                if (f.payer == address(0) || (f.revokedAt != 0 && block.timestamp >= f.revokedAt)) {
                    k = j;
                    break;
                }
            }
        }
        address signer = hot[k];
        KeyModel memory km = _keys[signer];
        bool expired = _h(proofSeed, "proof") % 8 == 0;
        bool badProof = _h(proofSeed, "proof") % 8 == 1;
        uint256 deadline = expired ? block.timestamp - 1 : block.timestamp + bound(proofSeed, 0, 1 days);
        // A bad proof: the key's consent for another payer.
        bytes memory proof = _authProof(_hotKeys[k], payers[badProof ? (p + 1) % NUM_PAYERS : p], deadline);

        bytes memory expected;
        if (expired) {
            expected = abi.encodeWithSelector(IPaymentEscrow.ProofExpired.selector, deadline);
        } else if (km.payer != address(0) && (km.revokedAt == 0 || block.timestamp < km.revokedAt)) {
            expected = abi.encodeWithSelector(IPaymentEscrow.SignerAlreadyAuthorized.selector, signer, km.payer);
        } else if (badProof) {
            expected = abi.encodeWithSelector(IPaymentEscrow.InvalidSignerProof.selector, signer);
        }
        VM.prank(payers[p]);
        try escrow.authorizeSigner(signer, deadline, proof) {
            assertTrue(expected.length == 0, "authorizeSigner should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "authorizeSigner");
            ++revertCalls["authorizeSigner"];
            return;
        }
        _keys[signer] = KeyModel(payers[p], 0);
        ++okCalls["authorizeSigner"];
    }

    function revokeSigner(uint256 payerSeed, uint256 keySeed) external {
        address signer = keySeed % 5 == 4 ? stranger : hot[keySeed % NUM_HOT];
        KeyModel memory km = _keys[signer];
        // 3/4 of the time the key's own payer, when it has one.
        address payer = payers[payerSeed % NUM_PAYERS];
        if (km.payer != address(0) && _h(payerSeed, "own payer") % 4 != 0) payer = km.payer;

        bytes memory expected;
        if (km.payer != payer) {
            expected = abi.encodeWithSelector(IPaymentEscrow.SignerNotAuthorized.selector, signer, payer);
        } else if (km.revokedAt != 0 && block.timestamp >= km.revokedAt) {
            expected = abi.encodeWithSelector(IPaymentEscrow.SignerNotAuthorized.selector, signer, payer);
        } else if (km.revokedAt != 0) {
            expected = abi.encodeWithSelector(IPaymentEscrow.SignerRevocationPending.selector, signer, km.revokedAt);
        }
        VM.prank(payer);
        try escrow.revokeSigner(signer) {
            assertTrue(expected.length == 0, "revokeSigner should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "revokeSigner");
            ++revertCalls["revokeSigner"];
            return;
        }
        _keys[signer].revokedAt = uint64(block.timestamp) + thaw;
        ++okCalls["revokeSigner"];
    }

    // ------------------------------------------------------------------ redemption

    function redeem(uint256 chanSeed, uint256 seed) external {
        _maybeTopUp(chanSeed % _chans.length, chanSeed);
        Signed memory s = _signVoucher(chanSeed % _chans.length, _h(seed, "voucher"), false);
        Chan memory ch = _chans[s.chan];
        ChanModel storage m = _m[s.chan];

        bytes memory expected = _redeemError(s, ch, m.balance, m.redeemed);
        uint256 earnedBefore = _earnedTotal(ch.token);
        IPaymentEscrow.Voucher memory v = IPaymentEscrow.Voucher(ch.payer, ch.node, ch.apiId, ch.token, s.cumulative);
        try escrow.redeem(v, s.signature) {
            assertTrue(expected.length == 0, "redeem should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "redeem");
            ++revertCalls["redeem"];
            return;
        }
        uint128 delta = s.cumulative - m.redeemed;
        uint256 observed = _earnedTotal(ch.token) - earnedBefore;
        assertEq(observed, delta, "redeem: earnings grew by the increase");
        m.paidOut += observed;
        _applyRedemption(s.chan, delta);
        _credit(ch, delta);
        ++okCalls["redeem"];
    }

    /// @dev A batch of up to MAX_BATCH vouchers for one node and token, drawn from that node's
    ///      channels in that token (so USDC batches mix both APIs, in random order, with repeats).
    function redeemBatch(uint256 nodeSeed, bool inDai, uint256 count, uint256 seed) external {
        address node = nodes[nodeSeed % 2];
        address token = inDai ? address(dai) : address(usdc);
        count = bound(count, 0, MAX_BATCH);
        uint256[] memory eligible = _eligible(node, token);

        Signed[] memory items = new Signed[](count);
        IPaymentEscrow.BatchVoucher[] memory batch = new IPaymentEscrow.BatchVoucher[](count);
        // Half of the batches are clean (authorized keys, well-formed, stale or within balance),
        // so that whole batches do go through; the rest may hold a bad voucher anywhere.
        bool clean = _h(seed, "clean") % 2 == 0;
        for (uint256 i = 0; i < count; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            uint256 c = eligible[s % eligible.length];
            _maybeTopUp(c, s >> 200);
            items[i] = _signVoucher(c, s >> 8, clean);
            Chan memory ch = _chans[items[i].chan];
            batch[i] = IPaymentEscrow.BatchVoucher(ch.payer, ch.apiId, items[i].cumulative, items[i].signature);
        }
        (bytes memory expected, uint128[] memory deltas) = _simulateBatch(items);

        uint256 earnedBefore = _earnedTotal(token);
        try escrow.redeemBatch(node, token, batch) {
            assertTrue(expected.length == 0, "redeemBatch should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "redeemBatch");
            ++revertCalls["redeemBatch"];
            return;
        }
        uint256 total;
        for (uint256 i = 0; i < count; ++i) {
            if (deltas[i] == 0) continue;
            total += deltas[i];
            _m[items[i].chan].paidOut += deltas[i];
            _applyRedemption(items[i].chan, deltas[i]);
            _credit(_chans[items[i].chan], deltas[i]);
        }
        assertEq(_earnedTotal(token) - earnedBefore, total, "redeemBatch: earnings grew by the increases");
        ++okCalls["redeemBatch"];
    }

    // ------------------------------------------------------------------ earnings

    function claimNodeEarnings(uint256 nodeSeed, bool inDai) external {
        address node = nodes[nodeSeed % 2];
        address token = inDai ? address(dai) : address(usdc);
        uint256 amount = modelNode[token][node];
        bytes memory expected;
        if (amount == 0) expected = abi.encodeWithSelector(IEarningsLedger.NothingToClaim.selector);
        uint256 before = IERC20(token).balanceOf(node);
        VM.prank(node);
        try escrow.claimNodeEarnings(token) {
            assertTrue(expected.length == 0, "claimNodeEarnings should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "claimNodeEarnings");
            ++revertCalls["claimNodeEarnings"];
            return;
        }
        assertEq(IERC20(token).balanceOf(node) - before, amount, "claimNodeEarnings: paid");
        modelNode[token][node] = 0;
        ghostClaimed[token] += amount;
        ++okCalls["claimNodeEarnings"];
    }

    function claimProviderEarnings(uint256 apiSeed, bool inDai, bool wrongCaller) external {
        uint256 a = apiSeed % 2;
        uint256 apiId = apis[a];
        address token = inDai ? address(dai) : address(usdc);
        address caller = wrongCaller ? providers[1 - a] : providers[a];
        uint256 amount = modelProvider[token][apiId];
        bytes memory expected;
        if (wrongCaller) {
            expected = abi.encodeWithSelector(IEarningsLedger.NotApiProvider.selector, apiId, caller);
        } else if (amount == 0) {
            expected = abi.encodeWithSelector(IEarningsLedger.NothingToClaim.selector);
        }
        uint256 before = IERC20(token).balanceOf(caller);
        VM.prank(caller);
        try escrow.claimProviderEarnings(apiId, token) {
            assertTrue(expected.length == 0, "claimProviderEarnings should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "claimProviderEarnings");
            ++revertCalls["claimProviderEarnings"];
            return;
        }
        assertEq(IERC20(token).balanceOf(caller) - before, amount, "claimProviderEarnings: paid");
        modelProvider[token][apiId] = 0;
        ghostClaimed[token] += amount;
        ++okCalls["claimProviderEarnings"];
    }

    /// @dev A list of 0-4 ids drawn from both APIs and an unknown one, duplicates included.
    function collectProtocolFees(bool inDai, uint256 listSeed) external {
        address token = inDai ? address(dai) : address(usdc);
        uint256 len = listSeed % 5;
        uint256[] memory ids = new uint256[](len);
        bool[2] memory seen;
        uint256 total;
        for (uint256 i = 0; i < len; ++i) {
            uint256 pick = (listSeed >> (8 + 2 * i)) % 3;
            ids[i] = pick == 2 ? 99 : apis[pick];
            if (pick < 2 && !seen[pick]) {
                seen[pick] = true;
                total += modelProtocol[token][apis[pick]];
            }
        }
        bytes memory expected;
        if (total == 0) expected = abi.encodeWithSelector(IEarningsLedger.NothingToClaim.selector);
        uint256 before = IERC20(token).balanceOf(treasury);
        try escrow.collectProtocolFees(token, ids) {
            assertTrue(expected.length == 0, "collectProtocolFees should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "collectProtocolFees");
            ++revertCalls["collectProtocolFees"];
            return;
        }
        assertEq(IERC20(token).balanceOf(treasury) - before, total, "collectProtocolFees: paid once per API");
        for (uint256 i = 0; i < 2; ++i) if (seen[i]) modelProtocol[token][apis[i]] = 0;
        ghostClaimed[token] += total;
        ++okCalls["collectProtocolFees"];
    }

    // ------------------------------------------------------------------ governance, time, donations

    function setRevenueSplit(uint256 a, uint256 b, bool invalid) external {
        uint16 p = uint16(bound(a, 0, BPS));
        uint16 n = uint16(bound(b, 0, BPS - p));
        uint16 q = BPS - p - n;
        if (invalid) q = q == 0 ? 1 : q - 1;
        IPaymentEscrow.RevenueSplit memory s = IPaymentEscrow.RevenueSplit(p, n, q);
        bytes memory expected;
        if (invalid) expected = abi.encodeWithSelector(IPaymentEscrow.InvalidRevenueSplit.selector, p, n, q);
        try escrow.setRevenueSplit(s) {
            assertTrue(expected.length == 0, "setRevenueSplit should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "setRevenueSplit");
            ++revertCalls["setRevenueSplit"];
            return;
        }
        split = s;
        ++okCalls["setRevenueSplit"];
    }

    function setThawPeriod(uint64 period) external {
        uint64 lo = escrow.MIN_THAW_PERIOD();
        uint64 hi = escrow.MAX_THAW_PERIOD();
        period = uint64(bound(period, lo - 10, hi + 10));
        bytes memory expected;
        if (period < lo || period > hi) {
            expected = abi.encodeWithSelector(IPaymentEscrow.ThawPeriodOutOfRange.selector, period, lo, hi);
        }
        try escrow.setThawPeriod(period) {
            assertTrue(expected.length == 0, "setThawPeriod should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "setThawPeriod");
            ++revertCalls["setThawPeriod"];
            return;
        }
        thaw = period;
        ++okCalls["setThawPeriod"];
    }

    function warp(uint256 secondsForward) external {
        VM.warp(block.timestamp + bound(secondsForward, 0, 3 days));
        ++okCalls["warp"];
    }

    /// @dev Tokens sent straight to the escrow: surplus, never a liability.
    function donate(bool inDai, uint256 amount) external {
        IERC20 token = inDai ? dai : usdc;
        amount = bound(amount, 1, MAX_DEPOSIT);
        ghostDonated[address(token)] += amount;
        ++okCalls["donate"];
        assertTrue(token.transfer(address(escrow), amount), "donate");
    }

    // ------------------------------------------------------------------ views for the invariants

    function chanCount() external view returns (uint256) {
        return _chans.length;
    }

    function chan(uint256 i) external view returns (Chan memory) {
        return _chans[i];
    }

    function model(uint256 i) external view returns (ChanModel memory) {
        return _m[i];
    }

    function keyModel(address signer) external view returns (KeyModel memory) {
        return _keys[signer];
    }

    function hotCount() external view returns (uint256) {
        return hot.length;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Deposits `amount` into channel `c` (in DAI for the USDC-priced API if `wrongToken`).
    function _deposit(uint256 c, uint256 amount, bool wrongToken) private {
        Chan memory ch = _chans[c];
        address token = wrongToken && ch.apiId == apis[0] ? address(dai) : ch.token;

        bytes memory expected;
        if (amount == 0) {
            expected = abi.encodeWithSelector(IPaymentEscrow.ZeroAmount.selector);
        } else if (token != ch.token) {
            expected = abi.encodeWithSelector(IPaymentEscrow.TokenNotAccepted.selector, ch.apiId, token);
        }
        uint256 before = IERC20(token).balanceOf(address(escrow));
        VM.prank(ch.payer);
        try escrow.deposit(ch.node, ch.apiId, token, uint128(amount)) {
            assertTrue(expected.length == 0, "deposit should have reverted");
        } catch (bytes memory err) {
            _assertError(err, expected, "deposit");
            ++revertCalls["deposit"];
            return;
        }
        assertEq(IERC20(token).balanceOf(address(escrow)) - before, amount, "deposit: received");
        ChanModel storage m = _m[c];
        m.balance += uint128(amount);
        m.deposited += amount;
        ghostDeposited[token] += amount;
        ++okCalls["deposit"];
    }

    /// @dev 3/4 of the redemptions first top up an empty channel, so that most have funds.
    function _maybeTopUp(uint256 c, uint256 seed) private {
        seed = _h(seed, "top up");
        if (_m[c].balance == 0 && seed % 4 != 0) _deposit(c, bound(seed >> 128, 1, MAX_DEPOSIT), false);
    }

    /// @dev Fuzzers favour small and edge values; choices hash their seed to spread evenly.
    function _h(uint256 seed, bytes32 salt) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    uint256 private constant PREFER_FUNDED = 1;
    uint256 private constant PREFER_WITHDRAWING = 2;

    /// @dev A channel: 3/4 of the time the first one from a random start that is funded / has a
    ///      withdrawal in progress (if any), else any.
    function _pickChan(uint256 seed, uint256 prefer) private view returns (uint256) {
        uint256 n = _chans.length;
        uint256 start = seed % n;
        if (_h(seed, "pick") % 4 == 0) return start;
        for (uint256 i = 0; i < n; ++i) {
            uint256 c = (start + i) % n;
            if (prefer == PREFER_FUNDED ? _m[c].balance != 0 : _m[c].wEndsAt != 0) return c;
        }
        return start;
    }

    function _key(string memory label, uint256 i) private pure returns (uint256) {
        return (uint256(keccak256(abi.encode("meshgate invariant", label, i))) % (SECP256K1_N - 1)) + 1;
    }

    function _pushChan(address payer, address node, uint256 apiId, address token) private {
        _chans.push(Chan(payer, node, apiId, token, keccak256(abi.encode(payer, node, apiId, token))));
    }

    function _eligible(address node, address token) private view returns (uint256[] memory out) {
        uint256 n;
        for (uint256 i = 0; i < _chans.length; ++i) if (_chans[i].node == node && _chans[i].token == token) ++n;
        out = new uint256[](n);
        n = 0;
        for (uint256 i = 0; i < _chans.length; ++i) {
            if (_chans[i].node == node && _chans[i].token == token) out[n++] = i;
        }
    }

    function _digest(Chan memory ch, uint128 cumulative) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(VOUCHER_TYPEHASH, ch.payer, ch.node, ch.apiId, ch.token, cumulative)
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    function _separator(PaymentEscrow escrow_) private view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                    keccak256("Meshgate PaymentEscrow"),
                    keccak256("1"),
                    block.chainid,
                    address(escrow_)
                )
            );
    }

    function _authProof(uint256 key, address payer, uint256 deadline) private view returns (bytes memory) {
        return _authProofWith(domainSeparator, key, payer, deadline);
    }

    function _authProofWith(
        bytes32 separator,
        uint256 key,
        address payer,
        uint256 deadline
    ) private pure returns (bytes memory) {
        bytes32 structHash = keccak256(abi.encode(AUTH_TYPEHASH, payer, deadline));
        (uint8 v, bytes32 r, bytes32 s) = SVM.sign(
            key,
            keccak256(abi.encodePacked("\x19\x01", separator, structHash))
        );
        return abi.encodePacked(r, s, v);
    }

    /// @dev Picks a key (payer's own, one of its hot keys, any hot key, a stranger, another
    ///      payer), an amount (stale, within the balance, over it, anything) and sometimes breaks
    ///      the signature. `clean`: an authorized key, a stale or affordable amount, well-formed.
    ///      Note: a batch's earlier vouchers may lower the balance a later one sees; fine, the
    ///      simulation predicts InsufficientBalance then.
    function _signVoucher(uint256 c, uint256 seed, bool clean) private returns (Signed memory out) {
        Chan memory ch = _chans[c];
        ChanModel storage m = _m[c];
        out.chan = c;
        out.cumulative = _pickAmount(m.balance, m.redeemed, seed, clean);

        uint256 key = _pickKey(ch.payer, seed, clean);
        out.signer = SVM.addr(key);
        (uint8 v, bytes32 r, bytes32 s) = SVM.sign(key, _digest(ch, out.cumulative));
        uint256 breakIt = clean ? 2 : (seed >> 12) % 16;
        out.wellFormed = breakIt > 1;
        if (breakIt == 0) {
            // Malleable twin: s -> n - s, v flipped. ecrecover accepts it; the escrow must not.
            out.signature = abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        } else if (breakIt == 1) {
            // EIP-2098 compact (64 bytes).
            bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
            out.signature = abi.encodePacked(r, vs);
        } else {
            out.signature = abi.encodePacked(r, s, v);
        }
        if (out.wellFormed && _authorized(out.signer, ch.payer) && out.cumulative > m.maxSigned) {
            m.maxSigned = out.cumulative;
        }
    }

    /// @dev 1/8 stale, 5/8 within the balance, 1/8 over it, 1/8 anything (clean: no over).
    function _pickAmount(uint128 balance, uint128 redeemed, uint256 seed, bool clean) private pure returns (uint128) {
        uint256 mode = (seed >> 16) % 8;
        uint256 x = seed >> 32;
        if (mode == 0) return uint128(bound(x, 0, redeemed));
        if (mode <= 5 || clean) {
            if (balance == 0) return uint128(bound(x, 0, redeemed));
            return uint128(uint256(redeemed) + bound(x, 1, balance));
        }
        if (mode == 6) return uint128(uint256(redeemed) + balance + bound(x, 1, 1000));
        return uint128(bound(x, 0, uint256(redeemed) + balance + 100));
    }

    /// @dev 1/2 the payer's own key, 1/4 one of its hot keys (if any), 1/8 any hot key,
    ///      1/16 a stranger, 1/16 another payer's key (clean: own or authorized hot key).
    function _pickKey(address payer, uint256 seed, bool clean) private view returns (uint256) {
        uint256 who = seed % 16;
        uint256 p = _payerIndex(payer);
        if (who < 8) return _payerKeys[p];
        if (who < 12 || clean) {
            for (uint256 i = 0; i < NUM_HOT; ++i) {
                uint256 k = (i + (seed >> 8)) % NUM_HOT;
                if (_authorized(hot[k], payer)) return _hotKeys[k];
            }
            return _payerKeys[p];
        }
        if (who < 14) return _hotKeys[(seed >> 8) % NUM_HOT];
        if (who == 14) return _strangerKey;
        return _payerKeys[(p + 1) % NUM_PAYERS];
    }

    function _payerIndex(address payer) private view returns (uint256) {
        for (uint256 i = 0; i < NUM_PAYERS; ++i) if (payers[i] == payer) return i;
        revert AssertTrue("unknown payer");
    }

    function _authorized(address signer, address payer) private view returns (bool) {
        if (signer == payer) return true;
        KeyModel memory km = _keys[signer];
        return km.payer == payer && (km.revokedAt == 0 || block.timestamp < km.revokedAt);
    }

    /// @dev The error `redeem` must revert with, given the channel state (empty: none).
    function _redeemError(
        Signed memory s,
        Chan memory ch,
        uint128 balance,
        uint128 redeemed
    ) private view returns (bytes memory) {
        if (!s.wellFormed) return abi.encodeWithSelector(IPaymentEscrow.InvalidSignature.selector);
        if (!_authorized(s.signer, ch.payer)) {
            return abi.encodeWithSelector(IPaymentEscrow.SignerNotAuthorized.selector, s.signer, ch.payer);
        }
        if (s.cumulative <= redeemed) {
            return abi.encodeWithSelector(IPaymentEscrow.NothingToRedeem.selector, ch.id, s.cumulative, redeemed);
        }
        uint128 delta = s.cumulative - redeemed;
        if (delta > balance) return abi.encodeWithSelector(IPaymentEscrow.InsufficientBalance.selector, delta, balance);
        return "";
    }

    /// @dev Runs a batch on a copy of the model: the first failing voucher's error, or the
    ///      increase each voucher pays (0: skipped).
    function _simulateBatch(
        Signed[] memory items
    ) private view returns (bytes memory expected, uint128[] memory deltas) {
        uint256 n = items.length;
        deltas = new uint128[](n);
        if (n == 0) return (abi.encodeWithSelector(IPaymentEscrow.EmptyBatch.selector), deltas);
        uint128[] memory bal = new uint128[](_chans.length);
        uint128[] memory red = new uint128[](_chans.length);
        for (uint256 i = 0; i < _chans.length; ++i) (bal[i], red[i]) = (_m[i].balance, _m[i].redeemed);
        for (uint256 i = 0; i < n; ++i) {
            Signed memory s = items[i];
            Chan memory ch = _chans[s.chan];
            if (!s.wellFormed) return (abi.encodeWithSelector(IPaymentEscrow.InvalidSignature.selector), deltas);
            if (!_authorized(s.signer, ch.payer)) {
                return (
                    abi.encodeWithSelector(IPaymentEscrow.SignerNotAuthorized.selector, s.signer, ch.payer),
                    deltas
                );
            }
            if (s.cumulative <= red[s.chan]) continue;
            uint128 delta = s.cumulative - red[s.chan];
            if (delta > bal[s.chan]) {
                return (
                    abi.encodeWithSelector(IPaymentEscrow.InsufficientBalance.selector, delta, bal[s.chan]),
                    deltas
                );
            }
            bal[s.chan] -= delta;
            red[s.chan] = s.cumulative;
            deltas[i] = delta;
        }
    }

    function _applyRedemption(uint256 c, uint128 delta) private {
        ChanModel storage m = _m[c];
        m.balance -= delta;
        m.redeemed += delta;
    }

    /// @dev Splits `paid` like the escrow: node and protocol rounded down, provider the rest.
    function _credit(Chan memory ch, uint256 paid) private {
        uint256 nodeShare = (paid * split.nodeBps) / BPS;
        uint256 protocolShare = (paid * split.protocolBps) / BPS;
        modelNode[ch.token][ch.node] += nodeShare;
        modelProtocol[ch.token][ch.apiId] += protocolShare;
        modelProvider[ch.token][ch.apiId] += paid - nodeShare - protocolShare;
    }

    function _earnedTotal(address token) private view returns (uint256 total) {
        for (uint256 i = 0; i < 2; ++i) {
            total += escrow.nodeEarnings(token, nodes[i]);
            (uint128 p, uint128 q) = escrow.apiEarnings(token, apis[i]);
            total += uint256(p) + q;
        }
    }

    function _assertError(bytes memory actual, bytes memory expected, string memory what) private pure {
        assertTrue(expected.length != 0, string.concat(what, ": unexpected revert"));
        assertTrue(keccak256(actual) == keccak256(expected), what);
    }
}

/// @dev Invariant tests of PaymentEscrow. Only the handler is fuzzed (`targetContracts` and
///      `targetSelectors`, the Foundry-compatible hooks that Hardhat 3's EDR runner reads).
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 64
/// forge-config: default.invariant.fail-on-revert = true
contract PaymentEscrowInvariantTest is StakingTestBase {
    /// @dev Foundry's `StdInvariant.FuzzSelector` (same ABI: tuple(address,bytes4[])).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address internal constant ESCROW_TREASURY = address(0xFEE5_0000);
    address internal constant PROVIDER_A = address(0xA11CE_0000);
    address internal constant PROVIDER_B = address(0xB0B_0000);
    address internal constant NODE_A = address(0x90DE_A000);
    address internal constant NODE_B = address(0x90DE_B000);
    uint256 internal constant PAYER_FUNDS = 1e30;

    ApiRegistry internal registry;
    UsdPriceOracle internal oracle;
    PaymentEscrow internal escrow;
    MockERC20 internal usdc;
    MockERC20 internal dai;
    EscrowHandler internal handler;

    function setUp() public {
        _deploy();
        registry = new ApiRegistry(
            address(manager),
            IERC20(address(token)),
            TREASURY,
            IApiRegistry.ListingBounds(10 ether, 100_000 ether, 1 hours, 365 days, 512, 0)
        );
        oracle = new UsdPriceOracle(address(manager));
        escrow = new PaymentEscrow(
            address(manager),
            registry,
            staking,
            oracle,
            ESCROW_TREASURY,
            2 days,
            IPaymentEscrow.RevenueSplit(8000, 1500, 500),
            1 days
        );
        usdc = new MockERC20("USD Coin", "USDC", 6);
        dai = new MockERC20("Dai", "DAI", 18);

        bytes4[] memory escrowFns = new bytes4[](3);
        escrowFns[0] = PaymentEscrow.setRevenueSplit.selector;
        escrowFns[1] = PaymentEscrow.setThawPeriod.selector;
        escrowFns[2] = escrow.setTreasury.selector;
        manager.setTargetFunctionRole(address(escrow), escrowFns, ROLE_PROTOCOL);
        bytes4[] memory oracleFns = new bytes4[](2);
        oracleFns[0] = UsdPriceOracle.setFeed.selector;
        oracleFns[1] = UsdPriceOracle.removeFeed.selector;
        manager.setTargetFunctionRole(address(oracle), oracleFns, ROLE_PROTOCOL);
        _grantGovernance(address(this));
        oracle.setFeed(address(usdc), address(new MockAggregatorV3(8, 1e8)), 1 hours);
        oracle.setFeed(address(dai), address(new MockAggregatorV3(8, 1e8)), 1 hours);

        VM.prank(PROVIDER_A);
        uint256 apiToken = registry.register(_apiInput(IApiRegistry.PriceUnit.Token, address(usdc), 1000));
        VM.prank(PROVIDER_B);
        uint256 apiUsd = registry.register(_apiInput(IApiRegistry.PriceUnit.Usd, address(0), 1e15));

        address[2] memory nodes = [NODE_A, NODE_B];
        handler = new EscrowHandler(
            escrow,
            IERC20(address(usdc)),
            IERC20(address(dai)),
            nodes,
            [apiToken, apiUsd],
            [PROVIDER_A, PROVIDER_B],
            ESCROW_TREASURY
        );
        manager.grantRole(ROLE_PROTOCOL, address(handler), 0);
        for (uint256 i = 0; i < 2; ++i) {
            assertTrue(token.transfer(nodes[i], 1000 ether), "fund node");
            VM.prank(nodes[i]);
            token.approve(address(staking), 1000 ether);
            VM.prank(nodes[i]);
            staking.registerNode(INodeStaking.NodeType.Edge, REGION, NODE_URL, 100, 1000 ether);
        }

        // The handler's own EIP-712 digest is the escrow's.
        EscrowHandler.Chan memory c = handler.chan(0);
        IPaymentEscrow.Voucher memory v = IPaymentEscrow.Voucher(c.payer, c.node, c.apiId, c.token, 123);
        bytes32 structHash = keccak256(abi.encode(escrow.VOUCHER_TYPEHASH(), v.payer, v.node, v.apiId, v.token, 123));
        assertTrue(
            escrow.voucherDigest(v) ==
                keccak256(abi.encodePacked("\x19\x01", handler.domainSeparator(), structHash)),
            "digest"
        );
        assertTrue(escrow.channelId(c.payer, c.node, c.apiId, c.token) == c.id, "channel id");
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](15);
        selectors[0] = EscrowHandler.deposit.selector;
        selectors[1] = EscrowHandler.startWithdraw.selector;
        selectors[2] = EscrowHandler.finishWithdraw.selector;
        selectors[3] = EscrowHandler.cancelWithdraw.selector;
        selectors[4] = EscrowHandler.authorizeSigner.selector;
        selectors[5] = EscrowHandler.revokeSigner.selector;
        selectors[6] = EscrowHandler.redeem.selector;
        selectors[7] = EscrowHandler.redeemBatch.selector;
        selectors[8] = EscrowHandler.claimNodeEarnings.selector;
        selectors[9] = EscrowHandler.claimProviderEarnings.selector;
        selectors[10] = EscrowHandler.collectProtocolFees.selector;
        selectors[11] = EscrowHandler.setRevenueSplit.selector;
        selectors[12] = EscrowHandler.setThawPeriod.selector;
        selectors[13] = EscrowHandler.warp.selector;
        selectors[14] = EscrowHandler.donate.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    // ------------------------------------------------------------------ invariants

    /// @dev balanceOf(escrow) >= liabilities; the difference is exactly what was donated; and
    ///      liabilities == deposits - withdrawals - claims.
    function invariant_solvency() public view {
        for (uint256 t = 0; t < 2; ++t) {
            IERC20 tok = _token(t);
            uint256 held = tok.balanceOf(address(escrow));
            uint256 owed = escrow.liabilities(address(tok));
            assertTrue(held >= owed, "balanceOf(escrow) >= liabilities");
            assertEq(held, owed + handler.ghostDonated(address(tok)), "balanceOf(escrow) == liabilities + donations");
            assertEq(
                owed,
                handler.ghostDeposited(address(tok)) -
                    handler.ghostWithdrawn(address(tok)) -
                    handler.ghostClaimed(address(tok)),
                "liabilities == deposited - withdrawn - claimed"
            );
        }
    }

    /// @dev liabilities == sum of channel balances + node earnings + API earnings, per token.
    function invariant_liabilitiesAreChannelsPlusEarnings() public view {
        uint256[2] memory sums;
        for (uint256 i = 0; i < handler.chanCount(); ++i) {
            EscrowHandler.Chan memory c = handler.chan(i);
            (uint128 balance, ) = escrow.channels(c.id);
            sums[c.token == address(usdc) ? 0 : 1] += balance;
        }
        for (uint256 t = 0; t < 2; ++t) {
            address tok = address(_token(t));
            for (uint256 j = 0; j < 2; ++j) {
                sums[t] += escrow.nodeEarnings(tok, handler.nodes(j));
                (uint128 p, uint128 q) = escrow.apiEarnings(tok, handler.apis(j));
                sums[t] += uint256(p) + q;
            }
            assertEq(escrow.liabilities(tok), sums[t], "liabilities == channel balances + earnings");
        }
    }

    /// @dev Every channel matches the model; it never paid more than was ever validly signed,
    ///      and what left it through redemptions is exactly its redeemed total.
    function invariant_channels() public view {
        for (uint256 i = 0; i < handler.chanCount(); ++i) {
            EscrowHandler.Chan memory c = handler.chan(i);
            EscrowHandler.ChanModel memory m = handler.model(i);
            (uint128 balance, uint128 redeemed) = escrow.channels(c.id);
            assertEq(balance, m.balance, "channel balance");
            assertEq(redeemed, m.redeemed, "channel redeemed");
            assertTrue(redeemed <= m.maxSigned, "redeemed <= highest validly signed cumulative amount");
            assertEq(m.paidOut, redeemed, "paid out of the channel == redeemed");
            assertEq(balance, m.deposited - m.withdrawn - redeemed, "balance == deposited - withdrawn - redeemed");
            (uint128 amount, uint64 thawEndsAt) = escrow.withdrawals(c.id);
            assertEq(amount, m.wAmount, "withdrawal amount");
            assertEq(thawEndsAt, m.wEndsAt, "withdrawal thawEndsAt");
        }
    }

    /// @dev Node, provider and protocol earnings are exactly the model's splits.
    function invariant_earningsMatchModel() public view {
        for (uint256 t = 0; t < 2; ++t) {
            address tok = address(_token(t));
            for (uint256 j = 0; j < 2; ++j) {
                address node = handler.nodes(j);
                uint256 apiId = handler.apis(j);
                assertEq(escrow.nodeEarnings(tok, node), handler.modelNode(tok, node), "node earnings");
                (uint128 p, uint128 q) = escrow.apiEarnings(tok, apiId);
                assertEq(p, handler.modelProvider(tok, apiId), "provider earnings");
                assertEq(q, handler.modelProtocol(tok, apiId), "protocol earnings");
            }
        }
    }

    /// @dev Signer records and isAuthorizedSigner match the model.
    function invariant_signersMatchModel() public view {
        for (uint256 k = 0; k <= handler.hotCount(); ++k) {
            address signer = k == handler.hotCount() ? handler.stranger() : handler.hot(k);
            EscrowHandler.KeyModel memory km = handler.keyModel(signer);
            (address payer, uint64 revokedAt) = escrow.signers(signer);
            assertTrue(payer == km.payer, "signer payer");
            assertEq(revokedAt, km.revokedAt, "signer revokedAt");
            for (uint256 p = 0; p < handler.NUM_PAYERS(); ++p) {
                address who = handler.payers(p);
                bool expected = km.payer == who && (km.revokedAt == 0 || block.timestamp < km.revokedAt);
                assertTrue(escrow.isAuthorizedSigner(signer, who) == expected, "isAuthorizedSigner");
                assertTrue(escrow.isAuthorizedSigner(who, who), "a payer's own key");
            }
        }
    }

    /// @dev After every run, everyone can leave: all earnings claimed, all channels withdrawn;
    ///      only donations stay, and each payer lost exactly what its channels paid.
    function afterInvariant() public {
        for (uint256 t = 0; t < 2; ++t) {
            address tok = address(_token(t));
            uint256[] memory ids = new uint256[](2);
            for (uint256 j = 0; j < 2; ++j) {
                ids[j] = handler.apis(j);
                address node = handler.nodes(j);
                if (escrow.nodeEarnings(tok, node) != 0) {
                    VM.prank(node);
                    escrow.claimNodeEarnings(tok);
                }
                (uint128 p, ) = escrow.apiEarnings(tok, ids[j]);
                if (p != 0) {
                    VM.prank(registry.providerOf(ids[j]));
                    escrow.claimProviderEarnings(ids[j], tok);
                }
            }
            (, uint128 q0) = escrow.apiEarnings(tok, ids[0]);
            (, uint128 q1) = escrow.apiEarnings(tok, ids[1]);
            if (q0 + q1 != 0) escrow.collectProtocolFees(tok, ids);
        }
        uint256 n = handler.chanCount();
        for (uint256 i = 0; i < n; ++i) {
            EscrowHandler.Chan memory c = handler.chan(i);
            (uint128 balance, ) = escrow.channels(c.id);
            if (balance == 0) continue;
            VM.prank(c.payer);
            escrow.startWithdraw(c.node, c.apiId, c.token, balance);
        }
        VM.warp(block.timestamp + escrow.MAX_THAW_PERIOD());
        uint256[3][2] memory spent;
        for (uint256 i = 0; i < n; ++i) {
            EscrowHandler.Chan memory c = handler.chan(i);
            (uint128 balance, uint128 redeemed) = escrow.channels(c.id);
            spent[c.token == address(usdc) ? 0 : 1][_payerIndex(c.payer)] += redeemed;
            if (balance == 0) continue;
            VM.prank(c.payer);
            escrow.finishWithdraw(c.node, c.apiId, c.token);
            (balance, ) = escrow.channels(c.id);
            assertEq(balance, 0, "channel emptied");
        }
        for (uint256 t = 0; t < 2; ++t) {
            IERC20 tok = _token(t);
            assertEq(escrow.liabilities(address(tok)), 0, "nothing owed");
            assertEq(tok.balanceOf(address(escrow)), handler.ghostDonated(address(tok)), "only donations stay");
            for (uint256 p = 0; p < handler.NUM_PAYERS(); ++p) {
                assertEq(tok.balanceOf(handler.payers(p)), PAYER_FUNDS - spent[t][p], "payer lost what it paid");
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    function _token(uint256 t) internal view returns (IERC20) {
        return t == 0 ? IERC20(address(usdc)) : IERC20(address(dai));
    }

    function _payerIndex(address payer) internal view returns (uint256) {
        for (uint256 p = 0; p < handler.NUM_PAYERS(); ++p) if (handler.payers(p) == payer) return p;
        revert AssertTrue("unknown payer");
    }

    function _apiInput(
        IApiRegistry.PriceUnit unit,
        address paymentToken,
        uint96 pricePerCall
    ) internal pure returns (IApiRegistry.ApiInput memory input) {
        input.metadataUri = "ipfs://invariant";
        input.metadataHash = keccak256("openapi");
        input.upstreamUrl = "https://api.example.com";
        input.category = "weather";
        input.pricing = IApiRegistry.Pricing(unit, paymentToken, 1, false, 0, pricePerCall, 0);
    }
}
